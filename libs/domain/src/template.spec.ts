import { type CompiledTemplate, compileTemplate } from './template';

function compile(value: unknown): CompiledTemplate {
  const r = compileTemplate(value);
  if (!r.ok) throw new Error(`${r.error} at ${r.offset} of ${JSON.stringify(r.path)}`);
  return r.template;
}

const context = {
  service: { name: 'checkout', limits: { maxTasks: 24 }, loadBalancer: { targetGroups: ['tg-blue', 'tg-green'] } },
  steps: { alb: { status: 'succeeded', output: { unhealthy: 3, healthy: true, zones: { a: 1 } } } },
  mode: 'dry-run',
};
const render = (value: unknown): unknown => compile(value).render(context);

describe('templates', () => {
  it('keeps the raw value of a string that is exactly one ${{ }}', () => {
    expect(render('${{ service.loadBalancer.targetGroups }}')).toEqual(['tg-blue', 'tg-green']);
    expect(render('  ${{ steps.alb.output.unhealthy }} ')).toBe(3);
    expect(render('${{steps.alb.output.healthy}}')).toBe(true);
    expect(render('${{ steps.alb.output.zones }}')).toEqual({ a: 1 });
    expect(render('${{ steps.deploy.output.id }}')).toBeUndefined();
  });

  it('interpolates every ${{ }} of a longer string', () => {
    expect(render('scale ${{ service.name }} to ${{ service.limits.maxTasks }} (${{ mode }})')).toBe('scale checkout to 24 (dry-run)');
    expect(render('${{ 1 }}${{ 2 }}')).toBe('12');
    expect(render('healthy: ${{ steps.alb.output.healthy }}')).toBe('healthy: true');
  });

  it("interpolates null and undefined as '', lists and objects as JSON", () => {
    expect(render('id=${{ steps.deploy.output.id }}.')).toBe('id=.');
    expect(render('x=${{ null }}')).toBe('x=');
    expect(render('groups: ${{ service.loadBalancer.targetGroups }}')).toBe('groups: ["tg-blue","tg-green"]');
    expect(render('zones: ${{ steps.alb.output.zones }}')).toBe('zones: {"a":1}');
  });

  it('templates lists and objects recursively and keeps other values', () => {
    expect(
      render({
        cluster: 'prod',
        desired: '${{ min(service.limits.maxTasks, steps.alb.output.unhealthy * 2) }}',
        tags: ['${{ service.name }}', 'static', 7, null, false],
        nested: { deeper: { name: 'svc-${{ service.name }}' } },
      }),
    ).toEqual({ cluster: 'prod', desired: 6, tags: ['checkout', 'static', 7, null, false], nested: { deeper: { name: 'svc-checkout' } } });
    expect(render(5)).toBe(5);
    expect(render('plain')).toBe('plain');
  });

  it('renders a fresh value each time', () => {
    const t = compile({ a: ['${{ service.name }}'] });
    const first = t.render(context) as { a: string[] };
    first.a.push('changed');
    expect(t.render(context)).toEqual({ a: ['checkout'] });
  });

  it('does not end an expression at a "}}" inside a quoted string', () => {
    expect(render("${{ '}}' + service.name }}")).toBe('}}checkout');
    expect(render('a ${{ "x}}y" }} b')).toBe('a x}}y b');
  });

  it('lists the paths it reads, with where they are', () => {
    const t = compile({ a: 'x ${{ service.name }}', b: ['${{ steps.alb.output.unhealthy + len(service.name) }}'] });
    expect(t.references()).toEqual([
      ['service', 'name'],
      ['steps', 'alb', 'output', 'unhealthy'],
    ]);
    expect(t.referenceSites()[0]).toEqual({ valuePath: ['a'], path: ['service', 'name'], offsets: [6, 14] });
    expect(t.referenceSites()[1]).toMatchObject({ valuePath: ['b', 0], offsets: [4, 10, 14, 21] });
  });

  it('says where an expression fails to parse: the path in the value and the offset in the string', () => {
    expect(compileTemplate({ x: ['ok', 'bad ${{ 1 + }}'] })).toEqual({ ok: false, error: 'expected an operand after "+"', offset: 12, path: ['x', 1] });
    expect(compileTemplate('a ${{ service.name')).toEqual({ ok: false, error: '"${{" is not closed by "}}"', offset: 2, path: [] });
    expect(compileTemplate('${{ }}')).toMatchObject({ ok: false, error: 'empty "${{ }}": expected an expression inside', offset: 0 });
    expect(compileTemplate({ a: '${{ service.constructor }}' })).toMatchObject({ ok: false, offset: 12, path: ['a'] });
  });
});
