'use strict';
exports.handler = async (event) => {
  const seconds = event.length ? JSON.parse(event.toString()).sleep || 0 : 0;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return { slept: seconds };
};
