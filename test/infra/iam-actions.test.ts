import { describe, expect, it } from 'vitest';
import {
  allowedActions,
  FUNCTION_NAMES,
  iamActionsFor,
  KNOWN_COMMANDS,
  ROLE_ACTIONS,
} from '../../lib/iam-actions';

describe('iamActionsFor', () => {
  it.each([
    ['GetCommand', 'dynamodb:GetItem'],
    ['QueryCommand', 'dynamodb:Query'],
    ['PutCommand', 'dynamodb:PutItem'],
    ['UpdateCommand', 'dynamodb:UpdateItem'],
    ['DeleteCommand', 'dynamodb:DeleteItem'],
    ['BatchGetCommand', 'dynamodb:BatchGetItem'],
    ['BatchWriteCommand', 'dynamodb:BatchWriteItem'],
    ['GetItemCommand', 'dynamodb:GetItem'],
    ['GetObjectCommand', 's3:GetObject'],
    ['HeadObjectCommand', 's3:GetObject'],
    ['PutObjectCommand', 's3:PutObject'],
    ['CreateMultipartUploadCommand', 's3:PutObject'],
    ['UploadPartCommand', 's3:PutObject'],
    ['CompleteMultipartUploadCommand', 's3:PutObject'],
    ['ListPartsCommand', 's3:ListMultipartUploadParts'],
    ['AbortMultipartUploadCommand', 's3:AbortMultipartUpload'],
    ['InvokeCommand', 'lambda:InvokeFunction'],
    ['PutEventsCommand', 'events:PutEvents'],
    ['SendTaskSuccessCommand', 'states:SendTaskSuccess'],
    ['SendTaskFailureCommand', 'states:SendTaskFailure'],
  ])('%s needs %s', (command, action) => {
    expect(iamActionsFor(command, {})).toEqual([action]);
  });

  it('expands TransactWriteCommand into the item actions it contains', () => {
    const input = {
      TransactItems: [
        { Update: { TableName: 't', Key: {}, UpdateExpression: 'SET a = :a' } },
        { Put: { TableName: 't', Item: {} } },
        { Put: { TableName: 't', Item: {} } },
        { ConditionCheck: { TableName: 't', Key: {}, ConditionExpression: 'attribute_exists(pk)' } },
      ],
    };
    expect(iamActionsFor('TransactWriteCommand', input)).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(iamActionsFor('TransactWriteItemsCommand', { TransactItems: [{ Delete: { Key: {} } }] })).toEqual([
      'dynamodb:DeleteItem',
    ]);
  });

  it('rejects a TransactWriteCommand it cannot read', () => {
    expect(() => iamActionsFor('TransactWriteCommand', {})).toThrow(/TransactItems/);
    expect(() => iamActionsFor('TransactWriteCommand', { TransactItems: [{ Frobnicate: {} }] })).toThrow(
      /Frobnicate/,
    );
  });

  it('throws for a command it does not know, so a new SDK call cannot slip through', () => {
    expect(() => iamActionsFor('ScanAllTheThingsCommand', {})).toThrow(
      /No IAM mapping.*ScanAllTheThingsCommand/,
    );
    expect(() => iamActionsFor('toString', {})).toThrow(/No IAM mapping/);
    expect(() => iamActionsFor('CopyObjectCommand', {})).toThrow(/No IAM mapping/);
  });

  it('maps every known command to namespaced actions', () => {
    for (const command of KNOWN_COMMANDS) {
      const input = /^Transact(Write|WriteItems)Command$/.test(command)
        ? { TransactItems: [{ Put: {} }] }
        : {};
      for (const action of iamActionsFor(command, input)) expect(action).toMatch(/^[a-z0-9]+:[A-Za-z]+$/);
    }
  });
});

describe('ROLE_ACTIONS', () => {
  it('lets a role that sends TransactWriteItems hold each item action', () => {
    for (const fn of ['write', 'upload', 'approve', 'workflow'] as const) {
      for (const action of [
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
      ]) {
        expect(allowedActions(fn).has(action), `${fn} ${action}`).toBe(true);
      }
    }
  });

  it('lets only approve and reconcile drive approval tasks, only relay and write (replaying) publish events, and only relay read the stream', () => {
    for (const fn of FUNCTION_NAMES) {
      const actions = [...allowedActions(fn)];
      expect(actions.filter((a) => a.startsWith('states:')).sort(), fn).toEqual(
        fn === 'approve'
          ? ['states:SendTaskFailure', 'states:SendTaskSuccess']
          : fn === 'reconcile'
            ? [
                'states:DescribeExecution',
                'states:SendTaskFailure',
                'states:SendTaskSuccess',
                'states:StartExecution',
              ]
            : [],
      );
      // The relay publishes; the write function's event replay republishes recorded events.
      expect(actions.includes('events:PutEvents'), fn).toBe(fn === 'relay' || fn === 'write');
      expect(ROLE_ACTIONS[fn].tableStream.length > 0, fn).toBe(fn === 'relay');
    }
    expect(ROLE_ACTIONS.relay.table).toEqual([]);
    // Only the write function scans (an event replay over every model); the others write alike.
    expect(ROLE_ACTIONS.write.table).toEqual([...ROLE_ACTIONS.workflow.table, 'dynamodb:Scan'].sort());
    expect(ROLE_ACTIONS.approve.table).toEqual(ROLE_ACTIONS.workflow.table);
    expect(ROLE_ACTIONS.workflow.table).not.toContain('dynamodb:Scan');
  });

  it('keeps read and download read-only', () => {
    for (const fn of ['read', 'download'] as const) {
      expect([...ROLE_ACTIONS[fn].table].sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
      ]);
      expect(ROLE_ACTIONS[fn].verifyFunction).toEqual([]);
    }
    expect(ROLE_ACTIONS.read.artifacts).toEqual([]);
    expect(ROLE_ACTIONS.download.artifacts).toEqual(['s3:GetObject']);
  });
});
