import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { countPhysicalCores, physicalCoreCount } from '../../main/engine/models/physicalCores.ts';

const cpu = (processor: number, physicalId: number, coreId: number): string =>
  `processor\t: ${processor}\nmodel name\t: Test CPU\nphysical id\t: ${physicalId}\ncore id\t\t: ${coreId}\n`;

describe('physicalCoreCount', () => {
  it('is a whole number between 1 and the available parallelism', () => {
    const count = physicalCoreCount();
    expect(Number.isInteger(count)).toBe(true);
    expect(count).toBeGreaterThanOrEqual(1);
    expect(count).toBeLessThanOrEqual(os.availableParallelism());
  });
});

describe('countPhysicalCores', () => {
  it('counts hyper-threads of one core once', () => {
    const cpuinfo = [cpu(0, 0, 0), cpu(1, 0, 1), cpu(2, 0, 0), cpu(3, 0, 1)].join('\n');
    expect(countPhysicalCores(cpuinfo)).toBe(2);
  });

  it('counts the same core id on two sockets twice', () => {
    const cpuinfo = [cpu(0, 0, 0), cpu(1, 1, 0), cpu(2, 0, 1), cpu(3, 1, 1)].join('\n');
    expect(countPhysicalCores(cpuinfo)).toBe(4);
  });

  it('gives up when the kernel reports no core ids', () => {
    const arm = 'processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\nBogoMIPS\t: 48.00\n';
    expect(countPhysicalCores(arm)).toBeUndefined();
  });
});
