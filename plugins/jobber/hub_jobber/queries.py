"""The GraphQL documents the plugin sends (schema version ``config.GRAPHQL_VERSION``). Every
connection is bounded with ``first:`` so a query's cost stays in the tens of points."""

CLIENTS_BY_PHONE = """
query ClientsByPhone($term: String!) {
  clients(searchTerm: $term, first: 10) {
    nodes { id phones { number } }
  }
}"""

CLIENT_CREATE = """
mutation ClientCreate($input: ClientCreateInput!) {
  clientCreate(input: $input) {
    client { id jobberWebUri }
    userErrors { message path }
  }
}"""

CLIENT_REQUESTS = """
query ClientRequests($id: EncodedId!) {
  client(id: $id) {
    requests(first: 20) { nodes { id title jobberWebUri } }
  }
}"""

REQUEST_CREATE = """
mutation RequestCreate($input: RequestCreateInput!) {
  requestCreate(input: $input) {
    request { id title jobberWebUri }
    userErrors { message path }
  }
}"""

REQUEST_NOTES = """
query RequestNotes($id: EncodedId!) {
  request(id: $id) {
    notes(first: 50) { nodes { ... on RequestNote { id message } } }
  }
}"""

REQUEST_CREATE_NOTE = """
mutation RequestCreateNote($requestId: EncodedId!, $input: RequestCreateNoteInput!) {
  requestCreateNote(requestId: $requestId, input: $input) {
    requestNote { id }
    userErrors { message path }
  }
}"""

VISIT = """
query Visit($id: EncodedId!) {
  visit(id: $id) {
    id startAt isComplete
    job { id request { id } client { id } }
  }
}"""

JOB = """
query Job($id: EncodedId!) {
  job(id: $id) {
    id jobStatus
    request { id }
    client { id }
  }
}"""

REQUEST = """
query Request($id: EncodedId!) {
  request(id: $id) {
    id requestStatus
    assessment { startAt isComplete }
    client { id }
  }
}"""
