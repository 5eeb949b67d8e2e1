'use strict';

// Answers with the names of every request header it was given.
exports.handler = (req, resp) => {
  resp.setHeader('Content-Type', 'application/json');
  resp.send(JSON.stringify(Object.keys(req.headers)));
};
