import { describe, expect, it } from 'vitest';
import { END_ID, graphOf, START_ID } from '../../../local/console/model/graph';
import { type GraphLayout, layoutGraph, type PlacedNode } from '../../../local/console/model/layout';
import { pipelineDefinition } from '../../support/workflow/pipeline-world';

/** The workflow graph and its layered layout: ASL in, states and transitions placed without overlaps. */

const overlap = (a: PlacedNode, b: PlacedNode): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const inside = (p: { x: number; y: number }, n: PlacedNode): boolean =>
  p.x > n.x && p.x < n.x + n.width && p.y > n.y && p.y < n.y + n.height;

function node(layout: GraphLayout, id: string): PlacedNode {
  const found = layout.nodes.find((n) => n.id === id);
  if (!found) throw new Error(`no node ${id}`);
  return found;
}

const parallel = {
  StartAt: 'Fan',
  States: {
    Fan: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'A1', States: { A1: { Type: 'Pass', Next: 'A2' }, A2: { Type: 'Pass', End: true } } },
        { StartAt: 'B1', States: { B1: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } } },
      ],
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

describe('graphOf', () => {
  it('turns Next, Choice rules, Default and Catch into edges, with Start and End at the top level', () => {
    // Prepare
    const definition = {
      StartAt: 'Check',
      States: {
        Check: {
          Type: 'Choice',
          Choices: [{ Condition: '{% $states.input.ok %}', Next: 'Work' }],
          Default: 'Nope',
        },
        Work: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Catch: [{ ErrorEquals: ['States.Timeout', 'Boom'], Next: 'Nope' }],
          End: true,
        },
        Nope: { Type: 'Fail', Error: 'X' },
      },
    };

    // Act
    const graph = graphOf(definition);

    // Assess
    expect(graph.nodes.map((n) => n.id)).toEqual([START_ID, 'Check', 'Work', 'Nope', END_ID]);
    expect(graph.edges).toEqual([
      { from: START_ID, to: 'Check', kind: 'next' },
      { from: 'Check', to: 'Work', kind: 'choice', label: '$states.input.ok' },
      { from: 'Check', to: 'Nope', kind: 'default', label: 'Default' },
      { from: 'Work', to: 'Nope', kind: 'catch', label: 'States.Timeout, Boom' },
      { from: 'Work', to: END_ID, kind: 'next' },
      { from: 'Nope', to: END_ID, kind: 'next' },
    ]);
    expect(graph.nodes.find((n) => n.id === 'Work')?.resource).toBe('lambda:invoke');
  });

  it('nests a Map item processor and each Parallel branch in their state', () => {
    // Act
    const pipeline = graphOf(pipelineDefinition());
    const fan = graphOf(parallel);

    // Assess
    const promote = pipeline.nodes.find((n) => n.id === 'Promote');
    expect(promote?.scopes).toHaveLength(1);
    expect(promote?.scopes?.[0]?.start).toBe('NeedsApproval');
    expect(promote?.scopes?.[0]?.nodes.map((n) => n.id)).toContain('CheckRollout');
    expect(fan.nodes.find((n) => n.id === 'Fan')?.scopes?.map((s) => s.nodes.map((n) => n.id))).toEqual([
      ['A1', 'A2'],
      ['B1'],
    ]);
  });

  it.each([
    ['arn:aws:states:::codebuild:startBuild.sync', 'codebuild:startBuild.sync'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:stepline-deploy', 'lambda:stepline-deploy'],
    ['arn:aws:states:eu-west-1:123456789012:activity:review', 'activity:review'],
  ])('shortens the resource %s to %s', (resource, short) => {
    // Act
    const graph = graphOf({ StartAt: 'T', States: { T: { Type: 'Task', Resource: resource, End: true } } });

    // Assess
    expect(graph.nodes.find((n) => n.id === 'T')?.resource).toBe(short);
  });
});

describe('layoutGraph on the real pipeline definition', () => {
  const layout = layoutGraph(graphOf(pipelineDefinition()));
  const leaves = layout.nodes.filter((n) => !n.compound);

  it('places every state of every level once', () => {
    // Assess
    const ids = layout.nodes.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining(['Build', 'Test', 'RunSuite', 'Promote', 'Approve', 'Rollback', START_ID, END_ID]),
    );
    expect(layout.width).toBeGreaterThan(0);
    expect(layout.height).toBeGreaterThan(0);
  });

  it('lets no two states overlap', () => {
    // Assess
    const clashes: string[] = [];
    for (let i = 0; i < leaves.length; i++)
      for (let j = i + 1; j < leaves.length; j++) {
        const a = leaves[i] as PlacedNode;
        const b = leaves[j] as PlacedNode;
        if (overlap(a, b)) clashes.push(`${a.id}/${b.id}`);
      }
    expect(clashes).toEqual([]);
  });

  it('puts the states of a Map inside its box, below its title', () => {
    // Prepare
    const promote = node(layout, 'Promote');

    // Assess
    for (const id of ['NeedsApproval', 'Approve', 'Deploy', 'CheckRollout', 'DeployFailed']) {
      const n = node(layout, id);
      expect(n.depth, id).toBe(1);
      expect(n.x).toBeGreaterThanOrEqual(promote.x);
      expect(n.x + n.width).toBeLessThanOrEqual(promote.x + promote.width);
      expect(n.y).toBeGreaterThan(promote.y + 20);
      expect(n.y + n.height).toBeLessThanOrEqual(promote.y + promote.height);
    }
  });

  it('draws forward transitions downwards and the rollout loop back up the right-hand side', () => {
    // Prepare
    const forward = layout.edges.filter((e) => !e.back);
    const loop = layout.edges.find((e) => e.from === 'CheckRollout' && e.to === 'WaitForRollout');

    // Assess
    for (const e of forward) {
      const first = e.points[0] as { y: number };
      const last = e.points[e.points.length - 1] as { y: number };
      expect(last.y, `${e.from} -> ${e.to}`).toBeGreaterThan(first.y);
    }
    expect(loop?.back).toBe(true);
    const check = node(layout, 'CheckRollout');
    expect(Math.max(...(loop?.points ?? []).map((p) => p.x))).toBeGreaterThan(check.x + check.width);
  });

  it('routes long transitions between states, not through them', () => {
    // Prepare
    const long = layout.edges.filter((e) => !e.back && e.points.length > 2);

    // Assess
    expect(long.length).toBeGreaterThan(0);
    const through: string[] = [];
    for (const e of long)
      for (const p of e.points.slice(1, -1))
        for (const n of leaves) if (inside(p, n)) through.push(`${e.from}->${e.to} through ${n.id}`);
    expect(through).toEqual([]);
  });

  it('starts at the top and ends at the bottom', () => {
    // Assess
    const start = node(layout, START_ID);
    const end = node(layout, END_ID);
    expect(Math.min(...layout.nodes.map((n) => n.y))).toBe(start.y);
    expect(Math.max(...layout.nodes.map((n) => n.y + n.height))).toBe(end.y + end.height);
  });

  it('lays the same definition out the same way every time', () => {
    // Act
    const again = layoutGraph(graphOf(pipelineDefinition()));

    // Assess
    expect(again).toEqual(layout);
  });
});

describe('layoutGraph with Parallel branches', () => {
  it('puts the branches side by side, each in its frame inside the Parallel box', () => {
    // Act
    const layout = layoutGraph(graphOf(parallel));

    // Assess
    const fan = node(layout, 'Fan');
    const [one, two] = layout.frames;
    expect(layout.frames.map((f) => f.owner)).toEqual(['Fan', 'Fan']);
    expect(one && two && one.x + one.width <= two.x).toBe(true);
    for (const f of layout.frames) {
      expect(f.x).toBeGreaterThanOrEqual(fan.x);
      expect(f.x + f.width).toBeLessThanOrEqual(fan.x + fan.width);
    }
    expect(node(layout, 'A2').y).toBeGreaterThan(node(layout, 'A1').y);
    expect(node(layout, 'B1').x).toBeGreaterThan(node(layout, 'A1').x);
    expect(node(layout, 'Done').y).toBeGreaterThan(fan.y + fan.height);
  });
});
