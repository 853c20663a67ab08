// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are bash scripts, where ${VAR} is shell syntax.
import { join } from 'node:path';

/**
 * How a buildspec command runs: each command is its own bash process (so that it has its own exit status, log
 * lines, timeout and process group), and what CodeBuild 0.2 keeps from one command to the next is carried over
 * in files of the build's state folder: every shell variable (exported or not), the shell functions, and the
 * working directory. A command starts by loading them and, however it ends (`exit 3` included), saves them.
 */

/** The state files of one build. */
export interface ShellState {
  readonly dir: string;
  readonly variables: string;
  readonly functions: string;
  readonly cwd: string;
  /** The buildspec's exported variables as the last command left them, `NAME=value\0` each (see exportScript). */
  readonly exported: string;
}

export function shellState(dir: string): ShellState {
  return {
    dir,
    variables: join(dir, 'variables.sh'),
    functions: join(dir, 'functions.sh'),
    cwd: join(dir, 'cwd'),
    exported: join(dir, 'exported'),
  };
}

/** Variables bash manages itself, or that must not travel from one command to the next. */
const NOT_CARRIED = [
  'BASH*',
  'EUID',
  'PPID',
  'UID',
  'SHELLOPTS',
  'FUNCNAME',
  'GROUPS',
  'RANDOM',
  'SRANDOM',
  'SECONDS',
  'LINENO',
  'HISTCMD',
  'PIPESTATUS',
  '_',
  'PWD',
  'OLDPWD',
  'SHLVL',
  'COMP_*',
  'DIRSTACK',
  'EPOCHREALTIME',
  'EPOCHSECONDS',
  'HOSTNAME',
  'HOSTTYPE',
  'MACHTYPE',
  'OSTYPE',
  'IFS',
  'PS4',
  'OPTERR',
  'OPTIND',
  'OPTARG',
  'COLUMNS',
  'LINES',
  '__stepline_*',
].join('|');

function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** Prints `NAME=value\0` for each variable of the list that is set (the list: shell words). */
function printSet(names: string): string {
  return `for __stepline_n in ${names}; do if [ -n "\${!__stepline_n+x}" ]; then printf '%s=%s\\0' "$__stepline_n" "\${!__stepline_n}"; fi; done`;
}

/**
 * The script that runs one buildspec command with the state carried over. With `exported` (the buildspec's
 * exported variables), the command also leaves their values in `state.exported` as it ends, so that the build
 * reads them there instead of starting a shell for them after the last command.
 */
export function commandScript(
  command: string,
  state: ShellState,
  srcDir: string,
  exported: readonly string[] = [],
): string {
  const exportLine =
    exported.length > 0
      ? [`  { ${printSet(exported.map(quote).join(' '))}; } > ${quote(state.exported)} 2>/dev/null`]
      : [];
  return [
    `__stepline_save() {`,
    `  local __stepline_rc=$?`,
    `  pwd > ${quote(state.cwd)} 2>/dev/null`,
    `  {`,
    `    local __stepline_n __stepline_d __stepline_f`,
    `    for __stepline_n in $(compgen -v); do`,
    `      case "$__stepline_n" in ${NOT_CARRIED}) continue ;; esac`,
    `      __stepline_d=$(declare -p "$__stepline_n" 2>/dev/null) || continue`,
    `      __stepline_f=\${__stepline_d#declare }; __stepline_f=\${__stepline_f%% *}`,
    `      case "$__stepline_f" in *r*) continue ;; esac`,
    `      printf '%s\\n' "$__stepline_d"`,
    `    done`,
    `  } > ${quote(`${state.variables}.tmp`)} 2>/dev/null && mv -f ${quote(`${state.variables}.tmp`)} ${quote(state.variables)}`,
    `  declare -f > ${quote(state.functions)} 2>/dev/null`,
    ...exportLine,
    `  return $__stepline_rc`,
    `}`,
    `[ -f ${quote(state.variables)} ] && . ${quote(state.variables)} 2>/dev/null`,
    `[ -f ${quote(state.functions)} ] && . ${quote(state.functions)} 2>/dev/null`,
    `cd "$(cat ${quote(state.cwd)} 2>/dev/null || printf '%s' ${quote(srcDir)})" 2>/dev/null || cd ${quote(srcDir)}`,
    `trap __stepline_save EXIT`,
    command,
    '',
  ].join('\n');
}

/** A script that prints `NAME=value\0` for each variable of `names` that is set after the last command. */
export function exportScript(state: ShellState): string {
  return [`[ -f ${quote(state.variables)} ] && . ${quote(state.variables)} 2>/dev/null`, printSet('"$@"'), ''].join(
    '\n',
  );
}
