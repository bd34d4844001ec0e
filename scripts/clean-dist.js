#!/usr/bin/env node
// Empties dist/ before a build: tsc never deletes what it compiled from a source file that has
// since moved or gone, and the test runner runs every compiled test it finds there.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

rmSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist'), { recursive: true, force: true });
