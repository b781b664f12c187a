/** The apps a gatehouse node hosts by default. */
import { demoApp } from '../actors/demo/counter.js';
import { chatApp } from '../chat/index.js';
import type { App } from './app.js';

export function defaultApps(): App[] {
  return [demoApp, chatApp];
}
