// `node --import ./register-loader.js …`: installs loader-hooks.ts before anything is imported.
import { register } from 'node:module';

register('./loader-hooks.js', import.meta.url);
