/**
 * Headless Chromium for the browser tests: Debian's `chromium`, driven by playwright-core.
 * Without it a test skips with INSTALL_HINT, except under CI (CI=true), where a missing
 * browser fails, so no browser check can silently vanish.
 */
import assert from 'node:assert/strict';
import { access, constants } from 'node:fs/promises';
import { it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.SOCKBRIDGE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LAUNCH_TIMEOUT_MS = 30_000;
export const INSTALL_HINT = `Chromium not found at ${CHROMIUM}; install it with "apt-get update && apt-get install -y chromium" (as .ci/run does) to run the browser test`;
export const MISSING_UNDER_CI = `${INSTALL_HINT}. Under CI a missing browser is a failure.`;

export async function chromiumMissing(): Promise<boolean> {
  try {
    await access(CHROMIUM, constants.X_OK);
    return false;
  } catch {
    return true;
  }
}

/**
 * For a describe() body: without Chromium, registers the one test that says so (a failure
 * under CI, a skip with INSTALL_HINT otherwise) and returns true, and the body returns.
 */
export async function withoutChromium(skippedTest: string): Promise<boolean> {
  if (!(await chromiumMissing())) return false;
  if (process.env.CI === 'true') it('has Chromium to run the browser test (CI=true)', () => assert.fail(MISSING_UNDER_CI));
  else it(skippedTest, (t) => t.skip(INSTALL_HINT));
  return true;
}

/** A headless browser with the tests' usual flags, plus `extraArgs` (e.g. a proxy). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: LAUNCH_TIMEOUT_MS });
}
