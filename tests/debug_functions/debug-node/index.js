exports.handler = async (event) => {
  const answer = { got: event.toString() }; // the test's breakpoint
  return JSON.stringify(answer);
};
