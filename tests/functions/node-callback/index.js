'use strict';
// FC's callback form: the answer is what the handler passes to callback, whenever it calls it.
exports.handler = function (event, context, callback) {
  const text = event.toString();
  if (text === 'fail') {
    callback(new Error('callback says no'));
    return;
  }
  if (text === 'throw-later') {
    setTimeout(() => {
      throw new Error('thrown in a timer');
    }, 1);
    return;
  }
  setTimeout(() => callback(null, { echoed: text, requestId: context.requestId }), 10);
};
