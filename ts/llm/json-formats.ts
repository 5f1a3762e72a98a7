// JSON Schema string formats as the patterns JSON mode generates them by: each a subset of what the
// format allows (what is generated validates, e.g. under ajv-formats' full mode), not all of it:
// dates stop at the 28th of February (no leap-day check), times carry a zone, e-mail addresses and
// UUIDs are lower case, URIs are http(s) URLs with a host name, plain path, query and fragment.
const DATE = '\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))';
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,9})?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)';
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const LABEL = '[a-z0-9]+(?:-[a-z0-9]+)*';
const URL_CHARS = '[A-Za-z0-9._~-]';

export const FORMAT_PATTERNS: Readonly<Record<string, string>> = {
  date: DATE,
  time: TIME,
  'date-time': `${DATE}T${TIME}`,
  uuid: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
  email: '[a-z0-9]+(?:[._-][a-z0-9]+)*@(?:[a-z0-9]+(?:-[a-z0-9]+)*\\.)+[a-z]{2,24}',
  ipv4: `${OCTET}(?:\\.${OCTET}){3}`,
  uri: `https?://(?:${LABEL}\\.)+[a-z]{2,24}(?::[1-9]\\d{1,4})?(?:/${URL_CHARS}*)*(?:\\?(?:${URL_CHARS}|[=&])*)?(?:#${URL_CHARS}*)?`,
};
