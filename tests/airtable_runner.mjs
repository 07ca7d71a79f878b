// Runs one Airtable automation script under Node with the globals an « Exécuter un script » action
// gives it: input.config() returns the configured inputs, output.set records the outputs, fetch is
// Node's own (real HTTP to the local stack). Like Airtable, the script's text is the body of an
// async function, so its top-level `await` and `throw` behave as they do there.
//
// Usage: node airtable_runner.mjs SCRIPT, inputs as JSON in AIRTABLE_INPUT (not argv: a secret).
// Prints {"outputs": {...}, "error": "..." | null} and exits 1 when the script threw.
import { readFile } from "node:fs/promises";

const inputs = JSON.parse(process.env.AIRTABLE_INPUT ?? "{}");
const outputs = {};
const input = { config: () => ({ ...inputs }) };
const output = {
  // Airtable keeps JSON values only: a value that does not survive JSON fails here as it would there.
  set: (key, value) => { outputs[key] = JSON.parse(JSON.stringify(value)); },
};

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const script = new AsyncFunction("input", "output", await readFile(process.argv[2], "utf8"));
let error = null;
try {
  await script(input, output);
} catch (thrown) {
  error = thrown instanceof Error ? thrown.message : String(thrown);
  process.exitCode = 1;
}
process.stdout.write(JSON.stringify({ outputs, error }));
