// Light or dark: follows the system (prefers-color-scheme) until the user picks one with the
// toggle; the choice is remembered in localStorage and applied as <html data-theme>.
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'autobatch.theme';

function readChoice(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

const systemDark = matchMedia('(prefers-color-scheme: dark)');

class Theme {
  choice = $state<ThemeChoice>(readChoice());
  private systemIsDark = $state(systemDark.matches);
  /** What is shown now. */
  readonly effective = $derived<'light' | 'dark'>(this.choice === 'system' ? (this.systemIsDark ? 'dark' : 'light') : this.choice);

  constructor() {
    systemDark.addEventListener('change', (e) => (this.systemIsDark = e.matches));
    this.apply();
  }

  /** Switches to the other theme and remembers it. */
  toggle(): void {
    this.set(this.effective === 'dark' ? 'light' : 'dark');
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    try {
      if (choice === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      // Storage may be off (private mode): the choice then lasts for this page only.
    }
    this.apply();
  }

  private apply(): void {
    if (this.choice === 'system') document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', this.choice);
  }
}

export const theme = new Theme();
