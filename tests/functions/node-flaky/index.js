'use strict';
exports.handler = async (event, context) => {
  console.log(`attempt with retry count ${context.retryCount}`);
  throw new Error(`always fails (${event.toString()})`);
};
