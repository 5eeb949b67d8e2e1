'use strict';
const calls = { initializer: 0, handler: 0, initializedBy: '' };

// The callback form of FC's initializer hook.
exports.initialize = (context, callback) => {
  calls.initializer += 1;
  calls.initializedBy = context.requestId;
  console.log('initialized by', context.requestId);
  setTimeout(() => callback(null, ''), 5);
};

exports.handler = async (event, context) => {
  calls.handler += 1;
  return calls;
};
