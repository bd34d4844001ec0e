#!/usr/bin/env node
// npm links this file as node_modules/.bin/autobatch; it hands over to the repo's own bin.
await import('../../bin/autobatch.js');
