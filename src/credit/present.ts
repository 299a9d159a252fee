import type { CreditGradeRow } from './repo';

export const presentCreditGrade = (r: CreditGradeRow) => ({
  id: r.id.toString(),
  object: 'credit_grade' as const,
  bidderId: r.bidder_id,
  grade: r.grade,
  source: r.source,
  validFrom: r.valid_from,
  validTo: r.valid_to,
  recordedBy: r.recorded_by,
  recordedAt: r.recorded_at.toISOString(),
});

export const presentBidderCredit = (c: { bidderId: string; today: CreditGradeRow | null; grades: CreditGradeRow[] }) => ({
  object: 'bidder_credit' as const,
  bidderId: c.bidderId,
  today: c.today ? presentCreditGrade(c.today) : null,
  grades: c.grades.map(presentCreditGrade),
});
