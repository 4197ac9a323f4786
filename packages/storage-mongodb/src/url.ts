// Naming a MongoDB URL in a message without what must stay secret: the password (and the
// user name with it) and the query options (authMechanismProperties, TLS key passwords).
// Connection strings are not WHATWG URLs (several hosts, raw '@' in hand-written
// passwords), so this cuts by hand and errs on the side of dropping text.

/** The URL as `scheme://hosts/db`, with a note when credentials or options were dropped. */
export function describeUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/i.exec(url);
  if (m === null) return '(not a mongodb:// URL)';
  const scheme = m[1]!;
  let rest = m[2]!;
  // The last '@' ends any user info: a password may hold anything but a host never holds '@'.
  const at = rest.lastIndexOf('@');
  const hadCredentials = at >= 0;
  if (hadCredentials) rest = rest.slice(at + 1);
  const q = rest.indexOf('?');
  const hadOptions = q >= 0;
  if (hadOptions) rest = rest.slice(0, q);
  const dropped = [hadCredentials ? 'credentials' : '', hadOptions ? 'options' : ''].filter(Boolean);
  return `${scheme}${rest}${dropped.length > 0 ? ` (${dropped.join(' and ')} omitted)` : ''}`;
}

/** `message` with every appearance of the URL's user info and password replaced by `***`. */
export function scrubSecrets(message: string, url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(.*)$/i.exec(url);
  const rest = m?.[1] ?? '';
  const at = rest.lastIndexOf('@');
  if (at < 0) return message;
  const userInfo = rest.slice(0, at);
  const colon = userInfo.indexOf(':');
  // A user name alone (no password: X.509, Kerberos) is not a secret.
  if (colon < 0) return message;
  const password = userInfo.slice(colon + 1);
  const secrets = new Set<string>([userInfo, password]);
  try {
    secrets.add(decodeURIComponent(password));
  } catch {
    // not valid percent-encoding: the raw form is already in the set
  }
  let out = message;
  // Longest first, so that the user info is replaced whole before its password part.
  for (const s of [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('***');
  }
  return out;
}
