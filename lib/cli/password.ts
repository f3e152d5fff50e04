/**
 * A password for the command line, never from its arguments (every user of the machine reads those in the
 * process list, and the shell keeps them in its history): typed at a prompt that does not echo it, twice, or,
 * when stdin is not a terminal, its first line (`retrace user create --email E < file`, or a pipe).
 */
export async function readPassword(
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  if (!input.isTTY) return firstLine(await readAll(input));
  const password = await prompt("Password: ", input, output);
  const again = await prompt("Password again: ", input, output);
  if (password !== again) throw new PasswordInputError("The passwords do not match.");
  return password;
}

export class PasswordInputError extends Error {}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/)[0] ?? "";
  if (!line) throw new PasswordInputError("No password on stdin: pipe it in, or run the command in a terminal.");
  return line;
}

function readAll(input: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    input.setEncoding("utf8");
    input.on("data", (chunk: string) => (text += chunk));
    input.once("end", () => resolve(text));
    input.once("error", reject);
  });
}

/** Reads one line from a terminal in raw mode, echoing nothing; Ctrl-C or Ctrl-D abandon it. */
function prompt(question: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  output.write(question);
  input.setRawMode(true);
  input.setEncoding("utf8");
  input.resume();
  return new Promise((resolve, reject) => {
    let typed = "";
    const done = (error: Error | null) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      output.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return done(null);
        if (char === "\u0003" || char === "\u0004") return done(new PasswordInputError("Cancelled."));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    input.on("data", onData);
  });
}
