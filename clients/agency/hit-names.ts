// A hit's statuses and the bounds of an officer's decision, apart from the
// hits module so the CLI can offer them as choices without loading it.

export const HIT_STATUSES = ['unverified', 'confirmed', 'declined'] as const;
export type HitStatusName = (typeof HIT_STATUSES)[number];
export const NOTE_MAX = 500;
export const OFFICER_MAX = 64;
