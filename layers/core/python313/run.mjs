// Runs a Python script under CPython 3.13 built for WebAssembly (Pyodide), for build machines
// without python3.13: bytecode is the same on every platform, so this compiles the layer exactly as
// the Lambda runtime's own Python would. The script's folder and every argument that is the
// absolute path of a folder are visible to it at their host paths.
//   node run.mjs <folder where package.json is installed> <script.py> [arguments...]
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [installed, script, ...rest] = process.argv.slice(2);
const pyodideModule = resolve(installed, "node_modules", "pyodide", "pyodide.mjs");
const { loadPyodide } = await import(pathToFileURL(pyodideModule).href);
const pyodide = await loadPyodide();

const scriptPath = resolve(script);
const folders = rest.filter((arg) => isAbsolute(arg) && existsSync(arg) && statSync(arg).isDirectory());
// Outermost first; a folder inside one already mounted is visible through it.
const mounted = [];
for (const folder of [resolve(scriptPath, ".."), ...folders].sort((a, b) => a.length - b.length)) {
  if (mounted.some((outer) => folder === outer || folder.startsWith(outer + "/"))) continue;
  pyodide.FS.mkdirTree(folder);
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: folder }, folder);
  mounted.push(folder);
}

pyodide.runPython(`import sys; sys.argv = ${JSON.stringify([scriptPath, ...rest])}`);
try {
  pyodide.runPython(readFileSync(scriptPath, "utf8"), { filename: scriptPath });
} catch (error) {
  // A SystemExit's message, or a traceback, then a failing exit status.
  const lines = String(error.message).trim().split("\n");
  console.error(error.type === "SystemExit" ? lines[lines.length - 1].replace(/^SystemExit: /, "") : error.message);
  process.exit(1);
}
