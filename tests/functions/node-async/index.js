'use strict';
// An async handler; the event says what to do ({"do": ...}), so one instance serves several tests.
exports.handler = async (event, context) => {
  let request = {};
  try {
    request = JSON.parse(event.toString());
  } catch (error) {
    // not a command: describe the call
  }
  switch (request.do) {
    case 'throw':
      console.log('about to throw');
      throw new TypeError(`bad input: ${request.input}`);
    case 'reject':
      return Promise.reject(new RangeError('rejected on purpose'));
    case 'throw-string':
      throw 'a plain string';
    case 'throw-object':
      throw { code: 42, reason: 'not an Error' };
    case 'unhandled':
      // A rejection nobody awaits: FC's runtime reports it as this invocation's error.
      Promise.reject(new Error('nobody awaited this'));
      return new Promise(() => {});
    case 'buffer':
      return Buffer.from([0, 1, 2, 255]);
    case 'string':
      return 'just text';
    case 'log':
      console.log('console says', request.input);
      console.error('console errs');
      context.logger.warn('logger warns');
      process.stdout.write('raw line\n');
      return 'logged';
    default:
      return {
        requestId: context.requestId,
        function: context.function,
        service: context.service,
        region: context.region,
        accountId: context.accountId,
        retryCount: context.retryCount,
        credentials: context.credentials,
        hasLogger: typeof context.logger.info === 'function',
        isBuffer: Buffer.isBuffer(event),
        event: event.toString(),
        env: { GREETING: process.env.GREETING, FC_FUNCTION_NAME: process.env.FC_FUNCTION_NAME, FC_RUNTIME: process.env.FC_RUNTIME },
        uid: process.getuid(),
      };
  }
};
