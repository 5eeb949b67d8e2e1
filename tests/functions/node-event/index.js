// FC 3.0 HTTP function in Node.js: the event is a Buffer of FC's JSON event; the answer is FC's response struct.
exports.handler = async (event, context) => {
  const request = JSON.parse(event.toString());
  if (request.rawPath === '/text') {
    return 'plain text from node';
  }
  return {
    statusCode: 202,
    headers: { 'Content-Type': 'application/json', 'X-Runtime': 'nodejs' },
    isBase64Encoded: false,
    body: JSON.stringify({ event: request, requestId: context.requestId }),
  };
};
