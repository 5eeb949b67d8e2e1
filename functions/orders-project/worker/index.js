'use strict';

// orders-worker: books an order (async invocation). What it returns goes, on success, to the MNS topic
// orders-done (asyncInvokeConfig in s.yaml); a throw is retried once, then goes to the queue orders-failed.
const pricing = require('pricing'); // from the layer pricing (/opt/nodejs/node_modules)

exports.handler = async (event, context) => {
  const order = JSON.parse(event.toString());
  if (order.triggerName) { // the timer trigger's event: {triggerTime, triggerName, payload}
    console.log(`report requested by ${order.triggerName} at ${order.triggerTime}`);
    return JSON.stringify({ report: true });
  }
  if (!Array.isArray(order.items) || order.items.length === 0) {
    throw new Error('an order needs items');
  }
  const total = pricing.total(order.items);
  console.log(`booked order ${order.id} for ${total} ${process.env.CURRENCY}`);
  return JSON.stringify({ id: order.id, total, currency: process.env.CURRENCY, bookedBy: context.requestId });
};
