// Qualified async invocation, invocation control, provision configs, instances and a version's code through FC 3.0's
// Node.js SDK (@alicloud/fc20230330), as an FC user scripts them; run by test_nodejs_sdk_docker.py:
//   node fc3_qualified_sdk.cjs <port> <function that answers> <function that fails> <base64 zip of new code>
// Each function gets version 1 and an alias `prod` naming it. Waits poll the API with a bound, as a user's script
// would (the SDK has no events to await). It prints one JSON line: what each operation answered, for the test.
"use strict";

const http = require("http");
const { Readable } = require("stream");
const FC = require("@alicloud/fc20230330");
const { $OpenApiUtil } = require("@alicloud/openapi-core");
const { RuntimeOptions } = require("@darabonba/typescript");

const [port, answering, failing, newCode] = process.argv.slice(2);
const client = new FC.default(new $OpenApiUtil.Config({
  accessKeyId: "test-ak", accessKeySecret: "test-sk", endpoint: `127.0.0.1:${port}`, protocol: "http",
}));
const FINAL = new Set(["Succeeded", "Failed", "Stopped", "Expired", "Invalid"]);

async function text(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

// Polls `probe` until it answers something truthy; fails after `seconds`, saying what it waited for.
async function waitFor(what, probe, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const answer = await probe();
    if (answer) return answer;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function refusal(call) {
  try {
    await call();
    return null;
  } catch (error) {
    return { code: error.code, statusCode: error.statusCode, message: error.message };
  }
}

async function publishWithAlias(name) {
  const versionId = (await client.publishFunctionVersion(name, new FC.PublishFunctionVersionRequest({
    body: new FC.PublishVersionInput({}),
  }))).body.versionId;
  await client.createAlias(name, new FC.CreateAliasRequest({
    body: new FC.CreateAliasInput({ aliasName: "prod", versionId }),
  }));
  return versionId;
}

async function invoke(name, qualifier, headers = {}) {
  const reply = await client.invokeFunctionWithOptions(name, new FC.InvokeFunctionRequest({
    body: Readable.from([Buffer.from("x")]), qualifier,
  }), new FC.InvokeFunctionHeaders(headers), new RuntimeOptions({}));
  return { statusCode: reply.statusCode, body: await text(reply.body) };
}

async function putRetries(name, qualifier, maxAsyncRetryAttempts) {
  return (await client.putAsyncInvokeConfig(name, new FC.PutAsyncInvokeConfigRequest({
    qualifier, body: new FC.PutAsyncInvokeConfigInput({ maxAsyncRetryAttempts }),
  }))).body.toMap();
}

async function finishedTask(name, taskId, qualifier) {
  const read = () => client.getAsyncTask(name, taskId, new FC.GetAsyncTaskRequest({ qualifier }));
  await waitFor(`task ${taskId} to end`, async () => FINAL.has((await read()).body.status));
  return (await read()).body.toMap();
}

async function listedTasks(name, qualifier) {
  const tasks = (await client.listAsyncTasks(name, new FC.ListAsyncTasksRequest({ qualifier }))).body.tasks || [];
  return tasks.map((task) => task.taskId).sort();
}

// PutAsyncInvokeConfig per qualifier, then a failing task through the alias and one through LATEST.
async function asyncThroughAlias() {
  await publishWithAlias(failing);
  const configs = { prod: await putRetries(failing, "prod", 0), latest: await putRetries(failing, undefined, 1) };
  const readBack = (await client.getAsyncInvokeConfig(failing, new FC.GetAsyncInvokeConfigRequest({
    qualifier: "prod" }))).body.toMap();
  const accepted = await invoke(failing, "prod", { xFcInvocationType: "Async", xFcAsyncTaskId: "through-prod" });
  await invoke(failing, undefined, { xFcInvocationType: "Async", xFcAsyncTaskId: "through-latest" });
  return {
    configs, readBack, accepted: accepted.statusCode,
    prodTask: await finishedTask(failing, "through-prod", "prod"),
    latestTask: await finishedTask(failing, "through-latest", "LATEST"),
    listed: { prod: await listedTasks(failing, "prod"), latest: await listedTasks(failing, "LATEST"),
      all: await listedTasks(failing, undefined) },
    wrongQualifier: await refusal(() => client.getAsyncTask(failing, "through-prod",
      new FC.GetAsyncTaskRequest({ qualifier: "LATEST" }))),
  };
}

async function invocationControl() {
  const disabled = (await client.disableFunctionInvocation(answering, new FC.DisableFunctionInvocationRequest({
    reason: "maintenance" }))).body.toMap();
  const refused = await refusal(() => invoke(answering, "prod"));
  const enabled = (await client.enableFunctionInvocation(answering)).body.toMap();
  return { disabled, refused, enabled, afterEnable: await invoke(answering, "prod") };
}

async function instances(qualifier) {
  const listed = (await client.listInstances(answering, new FC.ListInstancesRequest({ qualifier }))).body;
  return (listed.instances || []).map((instance) => instance.toMap());
}

async function provisioned() {
  const config = { qualifier: "prod" };
  const put = (await client.putProvisionConfig(answering, new FC.PutProvisionConfigRequest({
    ...config, body: new FC.PutProvisionConfigInput({ defaultTarget: 1 }) }))).body.toMap();
  const kept = await waitFor("prod's kept instance", async () => {
    const listed = await instances("prod");
    return listed.length === 1 ? listed : null;
  });
  const got = (await client.getProvisionConfig(answering, new FC.GetProvisionConfigRequest(config))).body.toMap();
  const deleted = (await client.deleteProvisionConfig(answering, new FC.DeleteProvisionConfigRequest(config)))
    .statusCode;
  // With no config, the idle kept instance goes at once (the test awaits it; its absence is its event).
  await waitFor("prod's instance to go", async () => (await instances("prod")).length === 0);
  const afterDelete = (await client.getProvisionConfig(answering, new FC.GetProvisionConfigRequest(config))).body;
  return { put, kept, got, deleted, afterDelete: afterDelete.toMap() };
}

function download(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (reply) => {
      const chunks = [];
      reply.on("data", (chunk) => chunks.push(chunk));
      reply.on("end", () => resolve({ statusCode: reply.statusCode, type: reply.headers["content-type"],
        head: Buffer.concat(chunks).subarray(0, 4).toString("latin1") }));
    }).on("error", reject);
  });
}

async function versionCode(versionId) {
  const qualified = { qualifier: versionId };
  const code = (await client.getFunctionCode(answering, new FC.GetFunctionCodeRequest(qualified))).body.toMap();
  const shown = (await client.getFunction(answering, new FC.GetFunctionRequest(qualified))).body.codeChecksum;
  const latest = (await client.getFunctionCode(answering, new FC.GetFunctionCodeRequest({}))).body.checksum;
  return { code, shown, latest, download: await download(code.url) };
}

async function main() {
  const versionId = await publishWithAlias(answering);
  // LATEST's code changes after version 1, so version 1's code is its own.
  await client.updateFunction(answering, new FC.UpdateFunctionRequest({
    body: new FC.UpdateFunctionInput({ code: new FC.InputCodeLocation({ zipFile: newCode }) }) }));
  const seen = { versionId, async: await asyncThroughAlias(), control: await invocationControl(),
    provision: await provisioned(), code: await versionCode(versionId) };
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
