/// The OpenAPI 3.1 description of the API, served at `/api/v1/openapi.json`.
enum OpenAPIDocument {
    static let json = #"""
    {"openapi":"3.1.0","info":{"title":"fta","version":"1"},"paths":{}}
    """#
}
