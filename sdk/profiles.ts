/**
 * Named AWS profiles: whether one exists in the shared config and credentials files, where the
 * AWS SDK and CLI look for them. The SDK's own loader is internal API, and all that is needed here
 * is the list of section names, so the files are read directly with the SDK's rules: the paths
 * come from AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (a leading `~/` is the home directory),
 * else ~/.aws/config and ~/.aws/credentials; the config file names profiles `[profile NAME]` (and
 * `[default]`), the credentials file `[NAME]`.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface SharedConfigPaths {
  readonly configFile: string;
  readonly credentialsFile: string;
}

const resolveHome = (path: string) => (path.startsWith('~/') ? join(homedir(), path.slice(2)) : path);

export function sharedConfigPaths(env: NodeJS.ProcessEnv = process.env): SharedConfigPaths {
  return {
    configFile: resolveHome(env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config')),
    credentialsFile: resolveHome(env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials')),
  };
}

/** The section names of an INI file (comments and keys ignored); none when the file is missing. */
async function sections(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*\[\s*([^\]]*?)\s*\]/.exec(line);
    if (m) names.push(m[1]!);
  }
  return names;
}

/** Whether `profile` is defined in either file. */
export async function profileExists(profile: string, paths = sharedConfigPaths()): Promise<boolean> {
  const [config, credentials] = await Promise.all([
    sections(paths.configFile),
    sections(paths.credentialsFile),
  ]);
  const inConfig = config.some((s) => {
    if (s === 'default') return profile === 'default';
    const m = /^profile\s+(.+)$/.exec(s);
    return m?.[1] === profile;
  });
  return inConfig || credentials.includes(profile);
}
