// uPlot builds its number format from navigator.language when it is first imported. Some
// Chromium builds under a POSIX locale (LANG=C) report a tag their own Intl rejects
// ("en-US@posix"), and that RangeError would stop the whole app before it draws. Such a tag is
// replaced by plain English; a valid one is left alone. Imported first by main.ts.

/** The language tag to use: `tag` if Intl accepts it, else 'en-US'. */
export function usableLanguage(tag: string | undefined): string {
  if (!tag) return 'en-US';
  try {
    new Intl.NumberFormat(tag);
    return tag;
  } catch {
    return 'en-US';
  }
}

// Reached through globalThis: the unit tests compile this file without the DOM's types.
const nav = (globalThis as { navigator?: { language?: string } }).navigator;
if (nav) {
  const usable = usableLanguage(nav.language);
  if (usable !== nav.language) Object.defineProperty(nav, 'language', { value: usable, configurable: true });
}
