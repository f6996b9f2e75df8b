/**
 * Atera API v3 shapes TicketZero reads and writes, PascalCase as on the wire. Types are what the live service
 * sends, which is looser than its Swagger schema: enum fields may come as numbers, most fields may be null.
 */

export interface AteraPage<T> {
  items: T[];
  totalItemCount?: number;
  /** Some documentation calls the count this. */
  totalItems?: number;
  page?: number;
  itemsInPage?: number;
  totalPages?: number;
  prevLink?: string | null;
  nextLink?: string | null;
}

export interface AteraTicketDto {
  TicketID: number;
  TicketTitle?: string | null;
  TicketNumber?: string | number | null;
  TicketPriority?: string | number | null;
  TicketImpact?: string | number | null;
  TicketStatus?: string | null;
  TicketSource?: string | null;
  TicketType?: string | number | null;
  EndUserID?: number | null;
  EndUserEmail?: string | null;
  EndUserFirstName?: string | null;
  EndUserLastName?: string | null;
  EndUserPhone?: string | null;
  TicketResolvedDate?: string | null;
  TicketCreatedDate?: string | null;
  FirstComment?: string | null;
  LastEndUserComment?: string | null;
  LastEndUserCommentTimestamp?: string | null;
  LastTechnicianComment?: string | null;
  LastTechnicianCommentTimestamp?: string | null;
  CustomerID?: number | null;
  CustomerName?: string | null;
  TechnicianContactID?: number | null;
  TechnicianFullName?: string | null;
  TechnicianEmail?: string | null;
}

export interface AteraUpdateTicketDto {
  TicketTitle?: string;
  TicketStatus?: string;
  TicketType?: string;
  TicketPriority?: string;
  TicketImpact?: string;
  TechnicianContactID?: number;
  TechnicianEmail?: string;
}

export interface AteraCommentDto {
  Date?: string | null;
  Comment?: string | null;
  EndUserID?: number | null;
  TechnicianContactID?: number | null;
  Email?: string | null;
  FirstName?: string | null;
  LastName?: string | null;
  IsInternal?: boolean | null;
}

export interface AteraCreateCommentDto {
  CommentText: string;
  CommentTimestampUTC?: string;
  TechnicianCommentDetails?: { TechnicianId?: number; IsInternal: boolean; TechnicianEmail?: string };
  EnduserCommentDetails?: { EnduserId: number };
}

export interface AteraContactDto {
  EndUserID: number;
  CustomerID?: number | null;
  CustomerName?: string | null;
  /** Lower-case `name`, unlike the ticket's EndUserFirstName. */
  Firstname?: string | null;
  Lastname?: string | null;
  JobTitle?: string | null;
  Email?: string | null;
  Phone?: string | null;
  MobilePhone?: string | null;
  DepartmentName?: string | null;
}

export interface AteraCustomerDto {
  CustomerID: number;
  CustomerName?: string | null;
  BusinessNumber?: string | null;
  Domain?: string | null;
}

export interface AteraAgentDto {
  AgentID?: number;
  MachineName?: string | null;
  CustomerID?: number | null;
  Online?: boolean | null;
  LastSeen?: string | null;
  OS?: string | null;
  OSVersion?: string | null;
  LastLoginUser?: string | null;
  CurrentLoggedUsers?: string | null;
}

/** Create and update calls answer `{"ActionID": "<id as a string>"}`. */
export interface AteraActionResult {
  ActionID?: string | number;
}
