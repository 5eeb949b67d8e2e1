'use strict';
// An async initializer that always fails: no invocation may reach the handler.
exports.initialize = async (context) => {
  console.log('initializing, and failing');
  throw new Error('cannot connect to the database');
};

exports.handler = async () => 'unreachable';
