// Debian's real OpenSSH server for the SFTP tests: own config, host key, port and users on 127.0.0.1, removed afterwards.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from '../../../src/temporal/dev-server';
import { makeTempDir } from '../temp';

const run = promisify(execFile);
export const SSHD = process.env.REFDATA_TEST_SSHD || '/usr/sbin/sshd';

/** Why the SFTP tests cannot run here, or undefined when they can. Checked before any test starts. */
export function sshdUnavailableReason(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is missing: run scripts/ensure-tools --for test (installs Debian's openssh-server)`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'sshd needs root here (privilege separation, and the tests log in as root and as a user they create)';
  }
  return undefined;
}

export interface SftpLogin {
  username: string;
  /** A directory the user may write to, empty at start. */
  uploadDir: string;
}

export interface SshdPeer {
  port: number;
  /** `SHA256:…` of the server's host key, as `ssh-keygen -l` prints it. */
  hostKeySha256: string;
  /** root, by an unencrypted ed25519 key in OpenSSH format. */
  root: SftpLogin & { privateKey: string };
  /** root again, by an RSA key in PEM format encrypted with a passphrase. */
  rootEncrypted: SftpLogin & { privateKey: string; passphrase: string };
  /** A local user made for this run (useradd + chpasswd), allowed SFTP only, by password. */
  passwordUser: SftpLogin & { password: string };
  /** A key that is not authorized anywhere. */
  strangerKey: string;
  /** What sshd wrote to stderr (-e), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

async function keygen(path: string, type: 'ed25519' | 'rsa', passphrase = '', pem = false): Promise<{ privateKey: string; publicKey: string }> {
  await run('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), ...(pem ? ['-m', 'PEM'] : []), '-N', passphrase, '-C', 'refdata-test', '-f', path]);
  return { privateKey: await readFile(path, 'utf8'), publicKey: await readFile(`${path}.pub`, 'utf8') };
}

export async function startSshd(): Promise<SshdPeer> {
  const dir = await makeTempDir('refdata-sshd-');
  const username = `rdsftp${randomBytes(4).toString('hex')}`;
  let userCreated = false;
  let createdRunDir = false;
  let child: ChildProcess | undefined;
  const stderr: string[] = [];
  const cleanup = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    if (userCreated) await run('userdel', [username]).catch(() => undefined);
    if (createdRunDir) await rmdir('/run/sshd').catch(() => undefined);
    await dir.cleanup();
  };
  try {
    // The temp dir is 0700 root; the password user's sftp-server must be able to walk into its home below it.
    await chmod(dir.path, 0o755);
    await keygen(join(dir.path, 'ssh_host_ed25519_key'), 'ed25519');
    const { stdout: fingerprint } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir.path, 'ssh_host_ed25519_key.pub')]);
    const clientKey = await keygen(join(dir.path, 'client_ed25519'), 'ed25519');
    const passphrase = 'correct horse battery';
    const encryptedKey = await keygen(join(dir.path, 'client_rsa_pem'), 'rsa', passphrase, true);
    const stranger = await keygen(join(dir.path, 'stranger'), 'ed25519');
    await mkdir(join(dir.path, 'authorized_keys'));
    await writeFile(join(dir.path, 'authorized_keys', 'root'), clientKey.publicKey + encryptedKey.publicKey);
    const rootUpload = join(dir.path, 'root-upload');
    await mkdir(rootUpload);

    const password = randomBytes(12).toString('base64url');
    const home = join(dir.path, 'home');
    await mkdir(home);
    await run('useradd', ['--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', username]);
    userCreated = true;
    const chpasswd = spawn('chpasswd');
    chpasswd.stdin.end(`${username}:${password}\n`);
    await new Promise<void>((resolve, reject) => chpasswd.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd exited ${code}`)))));
    const { stdout: ids } = await run('id', ['-u', username]);
    const userUpload = join(home, 'upload');
    await mkdir(userUpload);
    await chown(userUpload, Number(ids.trim()), Number(ids.trim()));

    // sshd refuses to start without its privilege-separation directory (Debian's service unit creates it).
    if (!existsSync('/run/sshd')) {
      await mkdir('/run/sshd', { mode: 0o755 });
      createdRunDir = true;
    }
    const port = await findFreePort();
    const config = join(dir.path, 'sshd_config');
    await writeFile(config, [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir.path, 'ssh_host_ed25519_key')}`,
      `PidFile ${join(dir.path, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir.path, 'authorized_keys')}/%u`,
      'StrictModes no', // the key files live in a temp dir, not in ~/.ssh with its strict modes
      'UsePAM no', // passwords checked against /etc/shadow directly
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      `AllowUsers root ${username}`,
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      `Match User ${username}`,
      '  ForceCommand internal-sftp',
      '',
    ].join('\n'));
    child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
    await waitForBanner(port, child, () => stderr.join(''));
    return {
      port,
      hostKeySha256: fingerprint.split(' ')[1],
      root: { username: 'root', privateKey: clientKey.privateKey, uploadDir: rootUpload },
      rootEncrypted: { username: 'root', privateKey: encryptedKey.privateKey, passphrase, uploadDir: rootUpload },
      passwordUser: { username, password, uploadDir: userUpload },
      strangerKey: stranger.privateKey,
      log: () => stderr.join(''),
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Resolves once the server sends its SSH banner; fails early if sshd exits (bad config) or after 10 s. */
async function waitForBanner(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(1_000);
      socket.once('data', (d: Buffer) => {
        socket.destroy();
        resolve(d.toString('utf8').startsWith('SSH-'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within 10 s: ${log()}`);
}
