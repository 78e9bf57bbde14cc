/**
 * Set once the process is on its way out (beforeExit, a terminating signal, exit). Exporters
 * then stop retrying, so a collector that is down cannot hold the application's exit hostage.
 */
let exiting = false;

export function markProcessExiting(): void {
  exiting = true;
}

/** The flush finished and the application carried on (it may do more work after beforeExit). */
export function markProcessRunning(): void {
  exiting = false;
}

export function isProcessExiting(): boolean {
  return exiting;
}
