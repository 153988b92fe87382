/** Attachment colors, in the order Heroku hands them out. */
export const ATTACHMENT_COLORS = [
  'RED',
  'PURPLE',
  'COBALT',
  'BLUE',
  'SILVER',
  'PINK',
  'CERULEAN',
  'GREEN',
  'BLACK',
  'CRIMSON',
  'CYAN',
  'MAROON',
  'CHARCOAL',
  'AMBER',
  'COPPER',
  'NAVY',
  'WHITE',
  'BROWN',
  'OLIVE',
] as const;

export type AttachmentColor = (typeof ATTACHMENT_COLORS)[number];

/**
 * The attachment name for a new attachment to an app: DATABASE when the app has
 * none, else HEROKU_POSTGRESQL_<COLOR> with a color no attachment of the app uses.
 * The database's own color goes first, so the same database tends to keep its color
 * across apps, as on Heroku.
 */
export function chooseAttachmentName(taken: ReadonlySet<string>, preferredColor?: string): string {
  if (!taken.has('DATABASE')) return 'DATABASE';
  const colors = preferredColor ? [preferredColor, ...ATTACHMENT_COLORS] : [...ATTACHMENT_COLORS];
  for (const color of colors) {
    const name = `HEROKU_POSTGRESQL_${color}`;
    if (!taken.has(name)) return name;
  }
  for (let n = 2; ; n++) {
    for (const color of ATTACHMENT_COLORS) {
      const name = `HEROKU_POSTGRESQL_${color}_${n}`;
      if (!taken.has(name)) return name;
    }
  }
}

export function configVarName(attachmentName: string): string {
  return `${attachmentName}_URL`;
}
