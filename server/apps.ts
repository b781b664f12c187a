/** The apps a gatehouse node hosts by default. */
import { demoApp } from '../actors/demo/counter.js';
import { chatApp } from '../chat/index.js';
import { gatewayKindsApp } from '../gateway/kinds.js';
import type { App } from './app.js';

export function defaultApps(): App[] {
  // gatewayKindsApp on every node: `conn` actors live on gateways, `session` and `identity` actors on workers.
  return [gatewayKindsApp, demoApp, chatApp];
}
