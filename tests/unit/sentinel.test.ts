import { describe, expect, it } from 'vitest';
import { matchSentinel } from '../../main/engine/strategies/sentinel.ts';

describe('matchSentinel', () => {
  it.each([
    'unknown',
    'Unknown.',
    'UNKNOWN',
    'None',
    'N/A',
    "I don't know.",
    'Not enough information',
    'There is not enough information to answer this question.',
    'The documents do not mention his birthplace.',
    'The provided documents do not contain information about the director.',
    'Cannot be determined from the documents.',
    'It is not possible to determine the year.',
    'The nationality is not mentioned in the text.',
    'Insufficient context to answer.',
    '',
    '   ',
  ])('treats %j as a sentinel', (answer) => {
    expect(matchSentinel(answer)).toBeDefined();
  });

  it.each([
    'Unknown Pleasures',
    'Unknown Soldier',
    'None but the Brave',
    'Nonesuch Records',
    'American',
    'yes',
    'no',
    '1966',
    'The Unknown Known',
    'Knowing and Not Knowing',
    'Information Society',
    'Ed Wood',
  ])('treats %j as a real answer', (answer) => {
    expect(matchSentinel(answer)).toBeUndefined();
  });
});
