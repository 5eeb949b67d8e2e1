'use strict';
// Two invocations meet on one instance: the first waits until the second has logged, so their log lines
// interleave, and each invocation's log must still carry only its own request id.
let arrived = null;

exports.handler = async (event, context) => {
  console.log(`start ${event.toString()}`);
  if (arrived === null) {
    await new Promise((resolve) => {
      arrived = resolve;
    });
    arrived = null;
  } else {
    arrived();
  }
  await new Promise((resolve) => setImmediate(resolve));
  console.log(`end ${event.toString()}`);
  return context.requestId;
};
