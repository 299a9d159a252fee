// The trading centre's pages in a real browser: a centre clerk sees on the dashboard what needs
// it, terminates a section, decides a refund the bank refused (R17) and resolves a reconciliation
// exception; an auditor sees the same pages with no decision form or action; a change without
// the session's CSRF token is refused.
import request from 'supertest';
import { bearer } from '../support/runtime';
import { absent, newPerson, one, signIn } from './support';
import { chooseOption, CentreWorld, fitsWidth, lookAt, password, submitAndConfirm } from './centre.support';

jest.setTimeout(120_000);

let w: CentreWorld;
const shared: { sectionId?: string; sectionName?: string; refundId?: string; depositId?: string; suspenseId?: string; reconciliationId?: string; decision?: string } = {};

beforeAll(async () => {
  w = await CentreWorld.start();
});
afterAll(async () => {
  await w?.close();
});

/** A `datetime-local` value `days` from now, in Beijing time. */
const beijingInput = (days: number) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
    .format(new Date(Date.now() + days * 86400e3))
    .replace(' ', 'T');
const beijingDay = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(d);

describe('the trading centre', () => {
  test('the dashboard shows what needs the centre, the centre terminates a section (R16), decides the refund the bank refused (R17) and resolves a reconciliation exception', async () => {
    const { section, depositId } = await w.sectionWithDeposit(10);
    const suspenseId = await w.suspenseCredit();
    const returnedSuspenseId = await w.suspenseCredit();
    const chfEntryRef = await w.foreignCurrencyCredit();
    const bankExceptionId: string = (await w.api().get(`/v1/bank-exceptions?bankId=${w.bank.id}&kind=foreign_currency`)).body.data[0].id;
    Object.assign(shared, { sectionId: section.id, sectionName: section.name, depositId, suspenseId });
    const { context, page } = await newPerson(w.stack);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await signIn(page, w.centreLogin, password);

    // Dashboard: the section closing today and the suspense credit, each linking to its page.
    await page.goto('/console/dashboard');
    await page.getByTestId('dash-suspense').locator(`a[href="/console/deposits/${suspenseId}"]`).waitFor();
    await page.getByTestId('dash-bank-exceptions').locator(`a[href="/console/bank-exceptions/${bankExceptionId}"]`).waitFor();
    const today = (await w.api().get('/v1/calendar')).body.today;
    const deadlineCard = page.locator('[data-testid="dash-deadlines"][data-loaded="true"]');
    await deadlineCard.waitFor();
    const closesToday = beijingDay(new Date(section.bidDeadline)) === today;
    const sectionLink = deadlineCard.locator(`a[href="/console/sections/${section.id}"]`);
    await (closesToday ? sectionLink.waitFor() : absent(sectionLink));
    await expect(page.getByTestId('dash-calendar').textContent()).resolves.toMatch(/覆盖至/);
    await lookAt(page, 'centre-dashboard');

    // The section: its deposit with the rule checks, then the termination with its confirmation.
    await page.goto(`/console/sections/${section.id}`);
    await page.getByRole('tab', { name: '保证金' }).click();
    await page.locator(`a[href="/console/deposits/${depositId}"]`).waitFor();
    await page.getByRole('tab', { name: '操作' }).click();
    await lookAt(page, 'centre-section');
    await page.locator('#section-termination_reason').fill('项目因规划调整取消');
    await submitAndConfirm(page, 'section-termination');
    await page.getByText('接口返回').waitFor();
    await page.getByRole('alert').filter({ hasText: '已终止' }).waitFor();
    expect((await w.api().get(`/v1/sections/${section.id}`)).body.status).toBe('terminated');
    const refunds = (await w.api().get(`/v1/refunds?sectionId=${section.id}`)).body.data;
    expect(refunds).toHaveLength(1);
    const refundId: string = refunds[0].id;
    shared.refundId = refundId;
    // The answer links the refund the termination scheduled (R16).
    await page.getByRole('alert').locator(`a[href="/console/refunds/${refundId}"]`).waitFor();

    // The bank says the account is closed: manual handling, on the dashboard and the list.
    await w.bankRejectsAsClosedAccount(refundId);
    await page.goto('/console/dashboard');
    await page.getByTestId('dash-manual').locator(`a[href="/console/refunds/${refundId}"]`).waitFor();
    await page.goto('/console/refunds?status=manual');
    await page.locator(`a[href="/console/refunds/${refundId}"]`).waitFor();
    await lookAt(page, 'centre-refunds-manual');

    // The refund: every attempt with the bank's answer, then the decision, confirmed.
    await page.goto(`/console/refunds/${refundId}`);
    await page.getByRole('cell', { name: 'AC04', exact: true }).waitFor();
    // One attempt, rejected.
    await one(page.getByRole('cell', { name: 'RJCT', exact: true }));
    await lookAt(page, 'centre-refund-manual');
    // A decision needs its reason: the form says so and nothing is sent.
    await page.getByTestId('refund-decision-submit').click();
    await page.getByText('请写明决定与理由').waitFor();
    const decision = `与投标人电话核实，原账户已恢复，按原账户重新付款 ${Date.now()}`;
    shared.decision = decision;
    await page.locator('#refund-decision_decision').fill(decision);
    await submitAndConfirm(page, 'refund-decision');
    await page.getByTestId('refund-decisions').getByText(decision).waitFor();
    const decided = (await w.api().get(`/v1/refunds/${refundId}`)).body;
    expect(decided).toMatchObject({ status: 'scheduled', decisions: [{ decision, account: null }] });
    await absent(page.locator('#refund-decision'));
    await lookAt(page, 'centre-refund-decided');

    // The deposit's own page: its checks and the refund.
    await page.goto(`/console/deposits/${depositId}`);
    await page.getByText('R5').first().waitFor();
    await lookAt(page, 'centre-deposit');

    // A statement with a debit the ledger never saw: uploaded from the page, then resolved.
    const { xml, entryRef } = w.statementWithUnknownDebit();
    await page.goto('/console/reconciliations');
    await page.locator('#rcn-bank').click();
    await page.locator('.ant-select-item-option').first().click();
    // Fetching a day from a bank that cannot be reached: the API's error is shown, nothing is made.
    await page.locator('#rcn-date').fill('2020-03-03');
    await page.locator('#rcn-date').press('Enter');
    await page.getByRole('button', { name: '获取并对账' }).click();
    await page.getByRole('alert').filter({ hasText: '请求失败' }).waitFor();
    expect((await w.api().get(`/v1/reconciliations?bankId=${w.bank.id}`)).body.data).toEqual([]);
    await page.locator('input[type="file"]').setInputFiles({ name: 'camt053.xml', mimeType: 'application/xml', buffer: Buffer.from(xml) });
    await page.getByRole('button', { name: '上传并对账' }).click();
    await page.waitForURL(/\/console\/reconciliations\/rcn_/);
    const reconciliationId = page.url().split('/').pop()!;
    shared.reconciliationId = reconciliationId;
    await page.getByText(entryRef).first().waitFor();
    await lookAt(page, 'centre-reconciliation');
    const report = (await w.api().get(`/v1/reconciliations/${reconciliationId}`)).body;
    const exception = report.exceptions.data.find((x: { entryRef: string; kind: string }) => x.entryRef === entryRef && x.kind === 'missing_in_ledger');
    expect(exception).toMatchObject({ status: 'open', amount: '123.45', ledger: null });
    const row = page.locator('tr', { hasText: entryRef }).first();
    await row.getByRole('button', { name: '处理' }).click();
    await chooseOption(page, `resolve-${exception.id}_decision`, '由银行更正');
    await page.locator(`#resolve-${exception.id}_note`).fill('银行误入账，已去函要求银行冲正');
    await submitAndConfirm(page, `resolve-${exception.id}`);
    await page.getByTestId(`rcn-exception-${exception.id}-resolved`).waitFor();
    const after = (await w.api().get(`/v1/reconciliations/${reconciliationId}`)).body;
    expect(after.exceptions.data.find((x: { id: string }) => x.id === exception.id)).toMatchObject({ status: 'resolved', decision: 'bank_to_correct', note: '银行误入账，已去函要求银行冲正' });
    expect(after.openExceptions).toBe(report.openExceptions - 1);
    await lookAt(page, 'centre-reconciliation-resolved');
    // The balance difference is still open: the dashboard still lists the reconciliation, with its count.
    await page.goto('/console/dashboard');
    await page.getByTestId('dash-reconciliations').locator(`a[href="/console/reconciliations/${reconciliationId}"]`).getByText(`${after.openExceptions} 项未处理`).waitFor();
    await page.goto('/console/reconciliations');
    await page.locator(`a[href="/console/reconciliations/${reconciliationId}"]`).first().waitFor();
    await lookAt(page, 'centre-reconciliations');

    // The other pages, each looked at.
    await page.goto('/console/suspense');
    await page.locator(`a[href="/console/deposits/${suspenseId}"]`).waitFor();
    await lookAt(page, 'centre-suspense');
    await page.goto(`/console/deposits/${suspenseId}`);
    await page.locator('#suspense-return').waitFor();
    await lookAt(page, 'centre-suspense-deposit');
    // A suspense credit returned to its payer with the decision on record (R15, R17).
    await page.goto(`/console/deposits/${returnedSuspenseId}`);
    await page.locator('#suspense-return_decision').fill('付款人来函确认汇错账户，原路退回');
    await submitAndConfirm(page, 'suspense-return');
    await page.getByText('待查款项退回（R15）').waitFor();
    const returned = (await w.api().get(`/v1/refunds?status=scheduled&limit=100`)).body.data.filter((r: { depositId: string }) => r.depositId === returnedSuspenseId);
    expect(returned).toMatchObject([{ reason: 'suspense_return', principal: '1234.56', creditor: { number: '6222333344445555666' } }]);

    // The bank exception: listed, opened, and its resolution recorded.
    await page.goto('/console/bank-exceptions?status=open');
    await page.locator(`a[href="/console/bank-exceptions/${bankExceptionId}"]`).click();
    await page.getByText(chfEntryRef).first().waitFor();
    await lookAt(page, 'centre-bank-exception');
    await page.locator('#bank-exception-resolution_note').fill('已联系银行将瑞士法郎款项退回付款人');
    await submitAndConfirm(page, 'bank-exception-resolution');
    await page.getByTestId('bex-resolution').getByText('已联系银行将瑞士法郎款项退回付款人', { exact: false }).waitFor();
    expect((await w.api().get(`/v1/bank-exceptions/${bankExceptionId}`)).body).toMatchObject({ status: 'resolved', resolution: { note: '已联系银行将瑞士法郎款项退回付款人' } });
    await page.goto('/console/bank-exceptions');
    await page.locator('[role="region"][aria-label="银行异常列表"]').waitFor();
    await lookAt(page, 'centre-bank-exceptions');
    await page.goto('/console/sections');
    await page.locator(`a[href="/console/sections/${section.id}"]`).waitFor();
    await lookAt(page, 'centre-sections');
    await page.goto(`/console/registry?id=${w.bank.id}`);
    await page.getByText(w.trustNumber).first().waitFor();
    await lookAt(page, 'centre-registry');
    await page.goto('/console/audit');
    await page.getByTestId('audit-verify').click();
    await page.getByText(/完整：已校验 \d+ 条记录/).waitFor();
    await page.getByLabel('记录编号').fill(refundId);
    await page.getByRole('button', { name: '筛选' }).click();
    await page.getByRole('cell', { name: 'refund.retry_decided', exact: true }).waitFor();
    await lookAt(page, 'centre-audit');

    // A change sent with the session's cookie but without its CSRF token is refused, and changes nothing.
    const forged = await page.request.post(`/v1/refunds/${refundId}/retry`, { data: { decision: '伪造的请求' } });
    expect(forged.status()).toBe(403);
    expect((await forged.json()).error.code).toBe('csrf_token_invalid');
    const forgedResolution = await page.request.post(`/v1/bank-exceptions/bex_00000000000000000000000000/resolution`, { data: { note: 'x' } });
    expect(forgedResolution.status()).toBe(403);
    expect((await w.api().get(`/v1/refunds/${refundId}`)).body.decisions).toHaveLength(1);
    // No page threw along the way.
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  test('the centre opens a section once its deadline has passed, sees the roster, is refused an award outside R14, then awards', async () => {
    const { section, bidder } = await w.sectionWithDeposit(0.1);
    const { context, page } = await newPerson(w.stack);
    await signIn(page, w.centreLogin, password);
    await new Promise((r) => setTimeout(r, Math.max(0, new Date(section.bidDeadline).getTime() - Date.now() + 300)));
    await page.goto(`/console/sections/${section.id}`);
    await submitAndConfirm(page, 'section-opening');
    await page.getByText('接口返回').waitFor();
    expect((await w.api().get(`/v1/sections/${section.id}`)).body.status).toBe('opened');
    await page.getByRole('tab', { name: '开标名册' }).click();
    const roster = page.getByTestId(`roster-${section.id}`);
    await roster.getByText(bidder.account.name).waitFor();
    await one(roster.getByText('已担保'));
    await page.getByText('开标保证金名册').first().waitFor();
    await lookAt(page, 'centre-section-roster');

    // An award notice 30 days after the evaluation report breaks R14: the API's refusal is shown, nothing changes.
    await page.getByRole('tab', { name: '操作' }).click();
    await chooseOption(page, 'section-award_winnerBidderId', bidder.account.name);
    await page.locator('#section-award_evaluationReportAt').fill(beijingInput(-30));
    await page.locator('#section-award_noticeAt').fill(beijingInput(0));
    await submitAndConfirm(page, 'section-award');
    // The refusal inside the award's own region: the opening's answer above it is JSON whose
    // random ids may contain "r14" too, and hasText matches without regard to case.
    await page.getByRole('region', { name: '定标（中标通知，R14）' }).getByRole('alert').filter({ hasText: 'R14' }).waitFor();
    expect((await w.api().get(`/v1/sections/${section.id}`)).body.status).toBe('opened');
    await lookAt(page, 'centre-section-award-refused');
    await page.locator('#section-award_evaluationReportAt').fill(beijingInput(-2));
    await submitAndConfirm(page, 'section-award');
    await page.locator('#section-contract').waitFor();
    expect((await w.api().get(`/v1/sections/${section.id}`)).body.status).toBe('awarded');
    await page.getByRole('alert').filter({ hasText: '接口返回' }).getByText('已定标').waitFor();
    await expect(page.getByRole('alert').filter({ hasText: '接口返回' }).textContent()).resolves.toContain(`"winnerBidderId": "${bidder.id}"`);
    await context.close();
  });

  test('on a phone the dashboard and a refund fit the screen', async () => {
    const { context, page } = await newPerson(w.stack, { mobile: true });
    await signIn(page, w.centreLogin, password);
    await page.goto('/console/dashboard');
    await page.getByTestId('dash-manual').waitFor();
    await fitsWidth(page);
    await lookAt(page, 'centre-phone-dashboard');
    await page.goto(`/console/refunds/${shared.refundId}`);
    await page.getByTestId('refund-decisions').getByText(shared.decision!).waitFor();
    await fitsWidth(page);
    await lookAt(page, 'centre-phone-refund');
    await context.close();
  });

  test('an auditor sees the same pages with no decision form or action, and its changes are refused', async () => {
    const { context, page } = await newPerson(w.stack);
    await signIn(page, w.auditorLogin, password);
    await expect(page.getByTestId('signed-in-as').textContent()).resolves.toBe(w.auditorLogin);
    await page.goto('/console/dashboard');
    await page.getByTestId('dash-suspense').locator(`a[href="/console/deposits/${shared.suspenseId}"]`).waitFor();
    await lookAt(page, 'auditor-dashboard');

    const noActions = async () => {
      await absent(page.locator('form[id$="-decision"], form[id^="section-"], form[id^="resolve-"], form#suspense-return, form#bank-exception-resolution'));
      await absent(page.locator('[data-testid$="-submit"]'));
    };

    await page.goto(`/console/refunds/${shared.refundId}`);
    await page.getByTestId('refund-decisions').getByText(shared.decision!).waitFor();
    await noActions();
    await lookAt(page, 'auditor-refund');

    // A refund waiting for a decision shows the auditor no form either.
    const { section } = await w.sectionWithDeposit(20);
    await w.api().post(`/v1/sections/${section.id}/termination`, { reason: '项目取消' }).expect(200);
    const manualId = (await w.api().get(`/v1/refunds?sectionId=${section.id}`)).body.data[0].id;
    await w.bankRejectsAsClosedAccount(manualId);
    await page.goto(`/console/refunds/${manualId}`);
    await page.getByRole('cell', { name: 'AC04', exact: true }).waitFor();
    await noActions();

    await page.goto(`/console/sections/${section.id}`);
    await page.getByRole('tab', { name: '开标名册' }).waitFor();
    await absent(page.getByRole('tab', { name: '操作' }));
    await noActions();
    await lookAt(page, 'auditor-section');

    await page.goto(`/console/reconciliations`);
    await page.locator(`a[href="/console/reconciliations/${shared.reconciliationId}"]`).first().waitFor();
    await absent(page.getByRole('button', { name: '上传并对账' }));
    await lookAt(page, 'auditor-reconciliations');
    await page.goto(`/console/reconciliations/${shared.reconciliationId}`);
    await page.getByTestId('rcn-open').waitFor();
    await absent(page.getByRole('button', { name: '处理' }));
    await noActions();
    await lookAt(page, 'auditor-reconciliation');

    await page.goto(`/console/deposits/${shared.suspenseId}`);
    await page.getByText('1,234.56').first().waitFor();
    await noActions();
    await lookAt(page, 'auditor-suspense-deposit');

    await page.goto('/console/audit');
    await page.getByTestId('audit-verify').click();
    await page.getByText(/完整：已校验 \d+ 条记录/).waitFor();
    await lookAt(page, 'auditor-audit');
    await page.getByText('EN', { exact: true }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Audit log');
    await page.goto(`/console/refunds/${manualId}`);
    await page.getByText('Every attempt and what the bank answered').waitFor();
    await noActions();
    await lookAt(page, 'auditor-refund-en');

    // With its CSRF token, the auditor's change is refused by role: the API hides the route (404).
    const token = (await (await page.request.get('/v1/session')).json()).csrfToken;
    const refused = await page.request.post(`/v1/refunds/${manualId}/retry`, { data: { decision: '审计不可操作' }, headers: { 'X-CSRF-Token': token } });
    expect([403, 404]).toContain(refused.status());
    expect((await request(w.app).get(`/v1/refunds/${manualId}`).set(bearer(w.centreKey))).body).toMatchObject({ status: 'manual' });
    await context.close();
  });
});
