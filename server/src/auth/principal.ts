/** Who makes a request. The security issue adds users and agents with policies. */
export interface Principal {
  id: string;
  kind: "admin";
}

export const ADMIN_PRINCIPAL: Principal = { id: "admin", kind: "admin" };
