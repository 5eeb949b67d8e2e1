'use strict';
// The event says what to do ({"do": ...}); anything else (a timer's event) is echoed back as parsed JSON.
const http = require('http');

const VARIABLES = ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN'];
// Where preStop reports (a test's sink); set by {"do": "remember-sink"}, so only that instance reports.
let sink = '';

function post(url, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    request.on('error', reject);
    request.end(body);
  });
}

exports.handler = async (event, context) => {
  let request = {};
  try {
    request = JSON.parse(event.toString());
  } catch (error) {
    // not JSON: echo it as text
    return event.toString();
  }
  switch (request.do) {
    case 'throw':
      throw new Error(`node refuses: ${request.input}`);
    case 'credentials': {
      const { accessKeyId, accessKeySecret, securityToken } = context.credentials;
      return { context: [accessKeyId, accessKeySecret, securityToken], env: VARIABLES.map((name) => process.env[name] || null) };
    }
    case 'remember-sink':
      sink = request.sink;
      return { instance: process.env.HOSTNAME };
    default:
      return request;
  }
};

exports.preStop = async (context) => {
  if (!sink) return;
  await post(sink, JSON.stringify({
    what: 'preStop', instance: process.env.HOSTNAME, requestId: context.requestId, function: context.function.name,
  }));
};
