import Hummingbird

/// `GET /openapi.json` for anyone: the API description file, byte for byte (`APIDescription`).
struct OpenAPIController {
    let document: APIDescription

    var endpoints: RouteCollection<PortalContext> {
        let routes = RouteCollection(context: PortalContext.self)
        routes.get("openapi.json", use: openAPI)
        return routes
    }

    @Sendable func openAPI(_ request: Request, context: PortalContext) async throws -> Response {
        guard case .available(let bytes) = document else { throw APIError.apiDescriptionUnavailable }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: bytes))
    }
}
