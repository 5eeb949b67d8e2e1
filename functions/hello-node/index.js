'use strict';

// `event` is a Buffer; what the handler returns (or its promise resolves to) is the answer.
exports.handler = async (event, context) => {
  const name = event.length ? JSON.parse(event.toString()).name || 'world' : 'world';
  console.log(`saying hello to ${name}`);
  return `hello ${name}`;
};
