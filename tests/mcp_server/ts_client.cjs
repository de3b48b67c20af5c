// Drives `maya mcp` with the TypeScript SDK 1.x client (@modelcontextprotocol/sdk, on NODE_PATH).
//
//   node ts_client.cjs '<target>' script '<steps json>'   one JSON line per step
//   node ts_client.cjs '<target>' bench <n>               one JSON line: get_balance timings
//   node ts_client.cjs '<target>' cancel <ms>             one JSON line: what a cancel left
//
// <target> is {"url": "http://..."} or {"command": "...", "args": [...], "cwd": "..."}.
// The client lists the tools first, so it checks every structured result against the
// tool's outputSchema (and refuses the result if it does not fit, as hosts built on it do).
"use strict";
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");
const {
  StreamableHTTPClientTransport,
} = require("@modelcontextprotocol/sdk/client/streamableHttp.js");

function transportFor(target) {
  if (target.url) return new StreamableHTTPClientTransport(new URL(target.url));
  return new StdioClientTransport({
    command: target.command,
    args: target.args,
    cwd: target.cwd,
    env: process.env,
    stderr: "ignore",
  });
}

async function runStep(client, [tool, args]) {
  try {
    const result = await client.callTool({ name: tool, arguments: args });
    const content = result.structuredContent;
    return {
      tool,
      accepted: true,
      isError: result.isError === true,
      outcome: content && content.status === "ok" ? "ok" : content && content.error,
      text: result.content && result.content[0] && result.content[0].text,
    };
  } catch (error) {
    return { tool, accepted: false, code: error.code, message: String(error.message) };
  }
}

// Order, make a link, then check it (an unpaid link is polled for seconds) and abort the
// check after <ms>: the client sends notifications/cancelled. Anything the server still
// answers for it reaches onerror ("a response for an unknown message ID").
async function cancelCheck(client, errors, ms) {
  await client.callTool({ name: "order_drink", arguments: { name: "Gin" } });
  await client.callTool({ name: "create_stripe_payment", arguments: {} });
  const abort = new AbortController();
  setTimeout(() => abort.abort("the customer left"), Number(ms));
  let aborted = false;
  try {
    await client.callTool({ name: "check_payment_status", arguments: {} }, undefined, {
      signal: abort.signal,
    });
  } catch (error) {
    aborted = abort.signal.aborted;
  }
  // Longer than the server's status polling, so a late answer would have arrived.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const after = await client.callTool({ name: "get_balance", arguments: {} });
  return { aborted, errors, after: after.structuredContent.status };
}

async function main() {
  const [target, mode, arg] = process.argv.slice(2);
  const client = new Client({ name: "maya-ts-test", version: "1.0.0" });
  const errors = [];
  client.onerror = (error) => errors.push(String(error && error.message));
  await client.connect(transportFor(JSON.parse(target)));
  const tools = (await client.listTools()).tools;
  if (mode === "cancel") {
    console.log(JSON.stringify(await cancelCheck(client, errors, arg)));
  } else if (mode === "bench") {
    const samples = [];
    for (let i = 0; i < Number(arg); i += 1) {
      const started = process.hrtime.bigint();
      const result = await client.callTool({ name: "get_balance", arguments: {} });
      samples.push(Number(process.hrtime.bigint() - started) / 1000);
      if (result.isError) throw new Error(JSON.stringify(result));
    }
    console.log(JSON.stringify({ samples_us: samples }));
  } else {
    console.log(JSON.stringify({ tools: tools.map((t) => t.name) }));
    for (const step of JSON.parse(arg)) console.log(JSON.stringify(await runStep(client, step)));
  }
  await client.close();
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
