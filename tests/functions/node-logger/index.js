'use strict';
exports.handler = async (event, context) => {
  const request = JSON.parse(event.toString() || '{}');
  console.log(`node says ${request.marker}`);
  context.logger.info(`node logged ${request.marker}`);
  if (request.fail) {
    throw new TypeError(`node failing on purpose ${request.marker}`);
  }
  return request.marker;
};
