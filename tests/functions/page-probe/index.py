"""FC 3.0 HTTP function serving a web page (at its root) whose script probes what a function's page can do: its
origin, cookies, localStorage, a same-origin fetch of the function's own JSON, the function list and a clock
advance through its own host, and the function list at the emulator's address. It leaves what each attempt got
in `window.probe` and sets the title to "done". Any other path answers JSON naming the function, the path and
the cookies it was sent, so a page can tell its function's answer from the emulator's."""
import json

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>probing</title></head><body><h1>page-probe</h1><script>
async function attempt(run) {
  try { return await run(); } catch (error) { return 'error: ' + error.name; }
}
async function answer(url, options) {
  const reply = await fetch(url, options);
  return reply.status + ' ' + await reply.text();
}
(async () => {
  const probe = {origin: window.origin};
  probe.cookie = await attempt(async () => { document.cookie = 'page=1; path=/'; return document.cookie; });
  probe.storage = await attempt(async () => { localStorage.setItem('k', 'v'); return localStorage.getItem('k'); });
  probe.own = await attempt(() => answer('whoami'));
  probe.functions = await attempt(() => answer('/2023-03-30/functions'));
  probe.functionsByAddress = await attempt(
    () => answer('http://127.0.0.1:' + location.port + '/2023-03-30/functions'));
  probe.clock = await attempt(() => answer('/_fcemu/clock/advance', {
    method: 'POST', headers: {'Content-Type': 'text/plain'}, body: '{"seconds": 3600}'}));
  window.probe = probe;
  document.title = 'done';
})();
</script></body></html>
"""


def handler(event, context):
    request = json.loads(event)
    if request["rawPath"] == "/":
        return {"statusCode": 200, "body": PAGE,
                "headers": {"Content-Type": "text/html; charset=utf-8", "Set-Cookie": "served=1; Path=/"}}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"function": "page-probe", "method": request["requestContext"]["http"]["method"],
                                "path": request["rawPath"], "cookie": request["headers"].get("Cookie", "")})}
