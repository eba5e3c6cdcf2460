// Helpers the @luaipc packages' test suites share: unique object names that are removed after
// each test whatever happened, a child-process runner that reports exit code and signal, and an
// OS-neutral check that a named object exists. Test code only; no package imports it at run time.
const { spawn } = require('node:child_process');
const { existsSync, readdirSync, rmSync } = require('node:fs');

let counter = 0;
const made = new Set();

/**
 * A name no other test, worker or concurrent run uses (`luaipc-<tag>-<pid>-<n>`, 30 bytes at
 * most so it is portable to macOS). Remembered for {@link cleanupNames}.
 */
function uniqueName(tag = 't') {
  counter += 1;
  const name = `lx-${tag.slice(0, 8)}-${process.pid.toString(36)}-${counter.toString(36)}`;
  made.add(name);
  return name;
}

/** Where the OS keeps a shm segment / semaphore of this name, when it is a file (Linux). */
function objectPath(kind, name) {
  if (process.platform !== 'linux') return undefined;
  return kind === 'sem' ? `/dev/shm/sem.${name}` : `/dev/shm/${name}`;
}

/** Whether the shm segment or semaphore `name` exists (`kind`: 'shm' | 'sem'). */
function objectExists(kind, name) {
  const path = objectPath(kind, name);
  if (path === undefined) throw new Error(`objectExists: no check for ${process.platform} yet`);
  return existsSync(path);
}

/**
 * Removes every object made under a name from {@link uniqueName}: the segment `<name>`, the
 * semaphore `sem.<name>`, and the `<name>-...` objects fixtures derive from it. Call it from
 * `afterEach`, so a failing test leaves nothing behind either.
 */
function cleanupNames() {
  const names = [...made];
  made.clear();
  if (names.length === 0 || process.platform !== 'linux') return;
  const ours = (entry) => {
    const bare = entry.startsWith('sem.') ? entry.slice(4) : entry;
    return names.some((n) => bare === n || bare.startsWith(`${n}-`));
  };
  for (const entry of readdirSync('/dev/shm')) {
    if (ours(entry)) rmSync(`/dev/shm/${entry}`, { force: true });
  }
}

/**
 * Runs `command args` as a real child process and collects its output, exit code and signal;
 * kills it with SIGKILL after `timeoutMs` (the result then has `timedOut: true`).
 * `options.input` is written to its stdin; `options.env` is merged into the environment.
 */
function runChild(command, args = [], options = {}) {
  const { timeoutMs = 60_000, input, env, cwd } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: env === undefined ? process.env : { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    child.stdin.on('error', () => {});
    if (input !== undefined) child.stdin.write(input);
    child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/**
 * Starts `command args` as a real child process that a test follows while it runs: `line(marker)`
 * resolves with the first stdout line containing `marker` (rejects if the child exits first),
 * `write(text)` feeds its stdin, `kill(signal?)` signals it (SIGKILL by default), `done` resolves
 * like {@link runChild}'s result when it exits. Killed with SIGKILL after `timeoutMs`.
 */
function startChild(command, args = [], options = {}) {
  const { timeoutMs = 60_000, env } = options;
  const child = spawn(command, args, {
    env: env === undefined ? process.env : { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const waiters = [];
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk;
    const lines = stdout.split('\n');
    for (const w of waiters.slice()) {
      const hit = lines.find((l) => l.includes(w.marker));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin.on('error', () => {});
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  return {
    pid: child.pid,
    done,
    line(marker) {
      const hit = stdout.split('\n').find((l) => l.includes(marker));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        waiters.push({ marker, resolve });
        done.then(
          (r) =>
            reject(
              new Error(`exited (${r.code ?? r.signal}) before printing '${marker}':\n${r.stderr}`),
            ),
          reject,
        );
      });
    },
    write(text) {
      child.stdin.write(text);
    },
    kill(signal = 'SIGKILL') {
      child.kill(signal);
    },
  };
}

/** {@link runChild} for `node [nodeArgs] script ...args` with this process's node. */
function runNode(script, args = [], options = {}) {
  const { nodeArgs = [], ...rest } = options;
  return runChild(process.execPath, [...nodeArgs, script, ...args], rest);
}

/**
 * The message Node itself gives in ERR_INVALID_ARG_TYPE for `name` (an argument, or a property
 * when it has a dot) expected to be `expected` but given `value`: Node's own wording of the value
 * comes from a check of its own (path.join, or Buffer.alloc for strings), so tests of our
 * argument errors compare against Node, not against a copy of our formatting.
 */
function nodeArgTypeMessage(name, expected, value) {
  let received;
  try {
    if (typeof value === 'string') Buffer.alloc(value);
    else require('node:path').join(value);
  } catch (error) {
    received = error.message.replace(/^.* Received /, ' Received ');
  }
  if (received === undefined) throw new Error('Node accepted the value');
  const kind = name.includes('.') ? 'property' : 'argument';
  return `The "${name}" ${kind} must be ${expected}.${received}`;
}

/**
 * The " Received ..." tail Node gives in ERR_INVALID_ARG_VALUE for `value` (util.inspect, cut at
 * 128 characters), taken from a check of Node's own (dns.setDefaultResultOrder's).
 */
function nodeArgValueReceived(value) {
  try {
    require('node:dns').setDefaultResultOrder(value);
  } catch (error) {
    if (error.code === 'ERR_INVALID_ARG_VALUE')
      return error.message.replace(/^.*? Received /s, ' Received ');
  }
  throw new Error('Node accepted the value');
}

/**
 * The " Received ..." tail Node gives in ERR_OUT_OF_RANGE for the number `value`, from checks
 * of Node's own (Buffer#readUInt8's offset, zlib's windowBits for 0).
 */
function nodeRangeReceived(value) {
  const tail = (fn) => {
    try {
      fn();
    } catch (error) {
      if (error.code === 'ERR_OUT_OF_RANGE')
        return error.message.replace(/^.*? Received /s, ' Received ');
    }
    return undefined;
  };
  const received =
    tail(() => Buffer.alloc(1).readUInt8(value)) ??
    tail(() => require('node:zlib').createDeflateRaw({ windowBits: value }));
  if (received === undefined) throw new Error('Node accepted the value');
  return received;
}

exports.nodeArgTypeMessage = nodeArgTypeMessage;
exports.nodeRangeReceived = nodeRangeReceived;
exports.nodeArgValueReceived = nodeArgValueReceived;
exports.uniqueName = uniqueName;
exports.objectPath = objectPath;
exports.objectExists = objectExists;
exports.cleanupNames = cleanupNames;
exports.runChild = runChild;
exports.startChild = startChild;
exports.runNode = runNode;
