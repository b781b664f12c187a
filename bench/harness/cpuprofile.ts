/**
 * The parts of a V8 .cpuprofile (from `--cpu-prof` or the inspector's Profiler.stop) that the profile readers use:
 * nodes with their call frames, and the samples with the time since the previous one (µs).
 */
import { readFileSync } from 'node:fs';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

export function readCpuProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}
