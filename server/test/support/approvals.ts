import { dataOf, type TestServer } from "./server";
import { eventually } from "./wait";

const EXECUTION = `query ($id: ID!) {
  pipelineExecution(id: $id) { status stages { actions { approvalPending id } } }
}`;

/** The id of the manual approval `executionId` waits on (first action of stage `stageIndex`), once it waits. */
export function approvalWaiting(t: TestServer, executionId: string, stageIndex = 1): Promise<string> {
  return eventually(
    async () => {
      const e = dataOf(await t.gql(EXECUTION, { id: executionId })).pipelineExecution;
      const action = e.stages[stageIndex].actions[0];
      return action.approvalPending ? (action.id as string) : undefined;
    },
    20_000,
    "the approval to wait",
  );
}

/** Approves what `executionId` waits on, then waits for the execution to succeed. */
export async function approveUntilSucceeded(
  t: TestServer,
  executionId: string,
  stageIndex = 1,
): Promise<void> {
  const approval = await approvalWaiting(t, executionId, stageIndex);
  dataOf(
    await t.gql(
      `mutation ($id: ID!) { putApprovalResult(actionExecutionId: $id, approved: true) { status } }`,
      {
        id: approval,
      },
    ),
  );
  await eventually(
    async () => dataOf(await t.gql(EXECUTION, { id: executionId })).pipelineExecution.status === "Succeeded",
    20_000,
    "the execution to succeed",
  );
}
