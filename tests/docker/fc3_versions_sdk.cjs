// Versions, aliases and reserved concurrency through FC 3.0's Node.js SDK (@alicloud/fc20230330), as an FC user
// scripts them; run by test_nodejs_sdk_docker.py against a running emulator:
//   node fc3_versions_sdk.cjs <port> <function> <base64 zip of the function's second code>
// It prints one JSON line: what each operation answered, for the test to check.
"use strict";

const { Readable } = require("stream");
const FC = require("@alicloud/fc20230330");
const { $OpenApiUtil } = require("@alicloud/openapi-core");

const [port, name, secondCode] = process.argv.slice(2);
const client = new FC.default(new $OpenApiUtil.Config({
  accessKeyId: "test-ak", accessKeySecret: "test-sk", endpoint: `127.0.0.1:${port}`, protocol: "http",
}));

async function text(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

async function invoke(qualifier) {
  const reply = await client.invokeFunction(name, new FC.InvokeFunctionRequest({
    body: Readable.from([Buffer.from("x")]), qualifier,
  }));
  return { body: await text(reply.body), version: reply.headers["x-fc-invocation-service-version"] };
}

async function publish(description) {
  const reply = await client.publishFunctionVersion(name, new FC.PublishFunctionVersionRequest({
    body: new FC.PublishVersionInput({ description }),
  }));
  return reply.body.versionId;
}

// An SDK error as the caller sees it: FC's code and the HTTP status.
async function refusal(call) {
  try {
    await call();
    return null;
  } catch (error) {
    return { code: error.code, statusCode: error.statusCode, message: error.message };
  }
}

async function main() {
  const first = await publish("first");
  await client.updateFunction(name, new FC.UpdateFunctionRequest({
    body: new FC.UpdateFunctionInput({ code: new FC.InputCodeLocation({ zipFile: secondCode }) }),
  }));
  const second = await publish("second");
  const created = (await client.createAlias(name, new FC.CreateAliasRequest({
    body: new FC.CreateAliasInput({ aliasName: "prod", versionId: first, additionalVersionWeight: { [second]: 0.5 } }),
  }))).body;
  const alias = (await client.getAlias(name, "prod")).body;
  const throughAlias = [];
  for (let i = 0; i < 20; i++) throughAlias.push(await invoke("prod"));
  const byVersion = await invoke(first);
  const latest = await invoke(undefined);
  await client.putConcurrencyConfig(name, new FC.PutConcurrencyConfigRequest({
    body: new FC.PutConcurrencyInput({ reservedConcurrency: 1 }),
  }));
  const concurrency = (await client.getConcurrencyConfig(name)).body;
  const refusedDelete = await refusal(() => client.deleteFunctionVersion(name, first));
  const versions = (await client.listFunctionVersions(name, new FC.ListFunctionVersionsRequest({}))).body.versions;
  console.log(JSON.stringify({
    first, second, created: created.toMap(), alias: alias.toMap(), throughAlias, byVersion, latest,
    concurrency: concurrency.toMap(), refusedDelete, versions: versions.map((v) => v.versionId),
  }));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
