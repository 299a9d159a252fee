import { refuseOversizedVoucher, statisticsVoucherGroupsMax } from '../../../src/statistics/voucher';

describe('the statistics voucher size', () => {
  test('up to the limit of groups is accepted; one more is refused with 422 too_many_groups naming groupBy', () => {
    expect(() => refuseOversizedVoucher(statisticsVoucherGroupsMax)).not.toThrow();
    expect(() => refuseOversizedVoucher(statisticsVoucherGroupsMax + 1)).toThrow(expect.objectContaining({ status: 422, code: 'too_many_groups' }));
    try {
      refuseOversizedVoucher(statisticsVoucherGroupsMax + 1);
    } catch (e) {
      expect((e as { extra: { param?: string } }).extra.param).toBe('groupBy');
      expect((e as Error).message).toContain(`${statisticsVoucherGroupsMax + 1} groups`);
    }
  });
});
