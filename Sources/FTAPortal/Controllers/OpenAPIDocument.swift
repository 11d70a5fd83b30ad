/// The OpenAPI 3.1 description of the API, served at `/api/v1/openapi.json`.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "fta portal API",
        "version": "1",
        "summary": "Freqtrade bots as a service: dry-run trading bots for an operator's clients.",
        "description": "JSON over HTTP. Sign in with `POST /auth/login`; the session is a cookie. Every POST, PATCH and DELETE must carry `Content-Type: application/json` (send `{}` when there is nothing to say) and must not come from another site (`Origin`, `Sec-Fetch-Site`): otherwise 415 or 403 `cross_site`. Request bodies are at most 64 KiB and name only known fields. Errors are `{\"error\":{\"code\",\"message\",\"fields\"?}}`. Another client's object is a 404. Timestamps are ISO 8601 UTC."
      },
      "servers": [
        {
          "url": "/api/v1"
        }
      ],
      "security": [
        {
          "session": []
        }
      ],
      "tags": [
        {
          "name": "auth",
          "description": "Sign-in and the caller's own account"
        },
        {
          "name": "accounts",
          "description": "Clients and their users (admin)"
        },
        {
          "name": "bots",
          "description": "Bots and their lifecycle"
        },
        {
          "name": "trading",
          "description": "A running bot's own Freqtrade data"
        },
        {
          "name": "system",
          "description": "Health, audit trail, installation checks"
        }
      ],
      "paths": {
        "/health": {
          "get": {
            "operationId": "getHealth",
            "summary": "Liveness and readiness",
            "tags": [
              "system"
            ],
            "description": "Database and container engine reachability; no versions, paths or error text.",
            "security": [],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Health"
                    }
                  }
                }
              }
            }
          }
        },
        "/openapi.json": {
          "get": {
            "operationId": "getOpenAPI",
            "summary": "This document",
            "tags": [
              "system"
            ],
            "security": [],
            "responses": {
              "200": {
                "description": "The OpenAPI 3.1 document.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object"
                    }
                  }
                }
              }
            }
          }
        },
        "/auth/login": {
          "post": {
            "operationId": "login",
            "summary": "Sign in",
            "tags": [
              "auth"
            ],
            "description": "Failures are limited per source address and per account (FTA_LOGIN_MAX_FAILURES in FTA_LOGIN_WINDOW_SECONDS, then a lockout of FTA_LOGIN_LOCKOUT_SECONDS: 429 with Retry-After).",
            "security": [],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/LoginRequest"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Signed in; a session cookie is set (and a session presented with the request ends).",
                "headers": {
                  "Set-Cookie": {
                    "description": "The session cookie `fta_session` (`__Host-fta_session` over TLS): HttpOnly, SameSite=Strict, Path=/.",
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "user"
                      ],
                      "properties": {
                        "user": {
                          "$ref": "#/components/schemas/User"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "description": "`invalid_credentials`: the same answer for an unknown user, a wrong password and a disabled account.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "413": {
                "$ref": "#/components/responses/PayloadTooLarge"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "429": {
                "$ref": "#/components/responses/TooManyAttempts"
              }
            }
          }
        },
        "/auth/logout": {
          "post": {
            "operationId": "logout",
            "summary": "Sign out",
            "tags": [
              "auth"
            ],
            "requestBody": {
              "required": false,
              "description": "Nothing to say: send `{}` (or no body) with `Content-Type: application/json` (the CSRF rule). Any field is refused with 400 `validation_failed`.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Empty"
                  }
                }
              }
            },
            "responses": {
              "204": {
                "description": "Signed out; the cookie is cleared.",
                "headers": {
                  "Set-Cookie": {
                    "description": "The session cookie `fta_session` (`__Host-fta_session` over TLS): HttpOnly, SameSite=Strict, Path=/.",
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/me": {
          "get": {
            "operationId": "getMe",
            "summary": "The signed-in user, their client and the memory budget",
            "tags": [
              "auth"
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Me"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              }
            }
          }
        },
        "/me/password": {
          "post": {
            "operationId": "changeOwnPassword",
            "summary": "Change one's own password",
            "tags": [
              "auth"
            ],
            "description": "A wrong `currentPassword` is a 400 `validation_failed` on that field.",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/PasswordChangeRequest"
                  }
                }
              }
            },
            "responses": {
              "204": {
                "description": "Changed; every session of the user ends and this browser gets a new cookie.",
                "headers": {
                  "Set-Cookie": {
                    "description": "The session cookie `fta_session` (`__Host-fta_session` over TLS): HttpOnly, SameSite=Strict, Path=/.",
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "413": {
                "$ref": "#/components/responses/PayloadTooLarge"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/catalog": {
          "get": {
            "operationId": "getCatalog",
            "summary": "The choices a bot is made of",
            "tags": [
              "bots"
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Catalog"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              }
            }
          }
        },
        "/clients": {
          "get": {
            "operationId": "listClients",
            "summary": "List clients (admin)",
            "tags": [
              "accounts"
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "clients"
                      ],
                      "properties": {
                        "clients": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/Client"
                          }
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              }
            }
          },
          "post": {
            "operationId": "createClient",
            "summary": "Create a client (admin)",
            "tags": [
              "accounts"
            ],
            "description": "409 `conflict` when the id is taken.",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/NewClientRequest"
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "Created.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "client"
                      ],
                      "properties": {
                        "client": {
                          "$ref": "#/components/schemas/Client"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                },
                "links": {
                  "listClientUsers": {
                    "operationId": "listClientUsers",
                    "parameters": {
                      "clientId": "$response.body#/client/id"
                    }
                  },
                  "createClientUser": {
                    "operationId": "createClientUser",
                    "parameters": {
                      "clientId": "$response.body#/client/id"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "413": {
                "$ref": "#/components/responses/PayloadTooLarge"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/clients/{clientId}/users": {
          "parameters": [
            {
              "$ref": "#/components/parameters/clientId"
            }
          ],
          "get": {
            "operationId": "listClientUsers",
            "summary": "List a client's users (admin)",
            "tags": [
              "accounts"
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "users"
                      ],
                      "properties": {
                        "users": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/User"
                          }
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              }
            }
          },
          "post": {
            "operationId": "createClientUser",
            "summary": "Create a user of a client (admin)",
            "tags": [
              "accounts"
            ],
            "description": "409 `conflict` when the username is taken (usernames are unique across clients).",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/NewUserRequest"
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "Created.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "user"
                      ],
                      "properties": {
                        "user": {
                          "$ref": "#/components/schemas/User"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                },
                "links": {
                  "updateUser": {
                    "operationId": "updateUser",
                    "parameters": {
                      "userId": "$response.body#/user/id"
                    }
                  },
                  "resetUserPassword": {
                    "operationId": "resetUserPassword",
                    "parameters": {
                      "userId": "$response.body#/user/id"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "413": {
                "$ref": "#/components/responses/PayloadTooLarge"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/users/{userId}": {
          "parameters": [
            {
              "$ref": "#/components/parameters/userId"
            }
          ],
          "patch": {
            "operationId": "updateUser",
            "summary": "Disable or enable a user (admin)",
            "tags": [
              "accounts"
            ],
            "description": "A disabled user's sessions stop working at once. 409 when an admin disables their own account.",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/UserChangeRequest"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "user"
                      ],
                      "properties": {
                        "user": {
                          "$ref": "#/components/schemas/User"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "413": {
                "$ref": "#/components/responses/PayloadTooLarge"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/users/{userId}/password": {
          "parameters": [
            {
              "$ref": "#/components/parameters/userId"
            }
          ],
          "post": {
            "operationId": "resetUserPassword",
            "summary": "Reset a user's password (admin)",
            "tags": [
              "accounts"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/PasswordResetRequest"
                  }
                }
              }
            },
            "responses": {
              "204": {
                "description": "Reset; that user's sessions end."
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "413": {
                "$ref": "#/components/responses/PayloadTooLarge"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/bots": {
          "get": {
            "operationId": "listBots",
            "summary": "List bots",
            "tags": [
              "bots"
            ],
            "description": "A client user gets their client's bots; an admin every bot, or one client's.",
            "parameters": [
              {
                "name": "client",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "string",
                  "pattern": "^[a-z0-9][a-z0-9-]{0,30}$"
                },
                "description": "Admin only: one client's bots (a client user always gets their own client's)."
              }
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "bots"
                      ],
                      "properties": {
                        "bots": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/Bot"
                          }
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              }
            }
          },
          "post": {
            "operationId": "createBot",
            "summary": "Create a bot (owner, admin)",
            "tags": [
              "bots"
            ],
            "description": "403 for a viewer. 409 `conflict` (id taken), `quota_exceeded` (the client's bot quota) or `memory_budget_exceeded` (starting it would exceed the host's bot memory budget). When the start fails the bot exists, `failed`, and the answer is the start's error.",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/NewBotRequest"
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "Created (and started unless `start` is false).",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "bot"
                      ],
                      "properties": {
                        "bot": {
                          "$ref": "#/components/schemas/Bot"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                },
                "links": {
                  "getBot": {
                    "operationId": "getBot",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "getBotLogs": {
                    "operationId": "getBotLogs",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "startBot": {
                    "operationId": "startBot",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "stopBot": {
                    "operationId": "stopBot",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "restartBot": {
                    "operationId": "restartBot",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "getBotStatus": {
                    "operationId": "getBotStatus",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "getBotProfit": {
                    "operationId": "getBotProfit",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "getBotTrades": {
                    "operationId": "getBotTrades",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "startBotTrading": {
                    "operationId": "startBotTrading",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "stopBotTrading": {
                    "operationId": "stopBotTrading",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "exitBotTrade": {
                    "operationId": "exitBotTrade",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  },
                  "deleteBot": {
                    "operationId": "deleteBot",
                    "parameters": {
                      "botId": "$response.body#/bot/id"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "413": {
                "$ref": "#/components/responses/PayloadTooLarge"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              }
            }
          }
        },
        "/bots/{botId}": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "get": {
            "operationId": "getBot",
            "summary": "A bot",
            "tags": [
              "bots"
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "bot"
                      ],
                      "properties": {
                        "bot": {
                          "$ref": "#/components/schemas/Bot"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              }
            }
          },
          "delete": {
            "operationId": "deleteBot",
            "summary": "Delete a bot (owner, admin)",
            "tags": [
              "bots"
            ],
            "requestBody": {
              "required": false,
              "description": "Nothing to say: send `{}` (or no body) with `Content-Type: application/json` (the CSRF rule). Any field is refused with 400 `validation_failed`.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Empty"
                  }
                }
              }
            },
            "responses": {
              "204": {
                "description": "Deleted: container, volume and, with the client's last bot, its network."
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              }
            }
          }
        },
        "/bots/{botId}/start": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "post": {
            "operationId": "startBot",
            "summary": "Start a bot (owner, admin)",
            "tags": [
              "bots"
            ],
            "description": "409 when the bot's state does not allow it (e.g. quarantined) or, on start, when the memory budget is exhausted.",
            "requestBody": {
              "required": false,
              "description": "Nothing to say: send `{}` (or no body) with `Content-Type: application/json` (the CSRF rule). Any field is refused with 400 `validation_failed`.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Empty"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "bot"
                      ],
                      "properties": {
                        "bot": {
                          "$ref": "#/components/schemas/Bot"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              }
            }
          }
        },
        "/bots/{botId}/stop": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "post": {
            "operationId": "stopBot",
            "summary": "Stop a bot (owner, admin)",
            "tags": [
              "bots"
            ],
            "description": "Stopping a stopped bot is not an error.",
            "requestBody": {
              "required": false,
              "description": "Nothing to say: send `{}` (or no body) with `Content-Type: application/json` (the CSRF rule). Any field is refused with 400 `validation_failed`.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Empty"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "bot"
                      ],
                      "properties": {
                        "bot": {
                          "$ref": "#/components/schemas/Bot"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              }
            }
          }
        },
        "/bots/{botId}/restart": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "post": {
            "operationId": "restartBot",
            "summary": "Restart a bot (owner, admin)",
            "tags": [
              "bots"
            ],
            "description": "409 when the bot's state does not allow it (e.g. quarantined) or, on start, when the memory budget is exhausted.",
            "requestBody": {
              "required": false,
              "description": "Nothing to say: send `{}` (or no body) with `Content-Type: application/json` (the CSRF rule). Any field is refused with 400 `validation_failed`.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Empty"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "bot"
                      ],
                      "properties": {
                        "bot": {
                          "$ref": "#/components/schemas/Bot"
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              }
            }
          }
        },
        "/bots/{botId}/logs": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "get": {
            "operationId": "getBotLogs",
            "summary": "The bot container's last log lines",
            "tags": [
              "bots"
            ],
            "parameters": [
              {
                "name": "tail",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 5000,
                  "default": 200
                },
                "description": "How many lines."
              }
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BotLogs"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              }
            }
          }
        },
        "/bots/{botId}/status": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "get": {
            "operationId": "getBotStatus",
            "summary": "The bot's open trades (Freqtrade `/status`)",
            "tags": [
              "trading"
            ],
            "description": "From the bot's own API, after the dry-run guard. 409 `bot_not_running` unless the bot is starting or running, 409 `quarantined` when the bot reported it was not in dry-run.",
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BotStatus"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "502": {
                "$ref": "#/components/responses/BadGateway"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              },
              "504": {
                "$ref": "#/components/responses/BotTimeout"
              }
            }
          }
        },
        "/bots/{botId}/profit": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "get": {
            "operationId": "getBotProfit",
            "summary": "The bot's profit summary (Freqtrade `/profit`)",
            "tags": [
              "trading"
            ],
            "description": "From the bot's own API, after the dry-run guard. 409 `bot_not_running` unless the bot is starting or running, 409 `quarantined` when the bot reported it was not in dry-run.",
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BotProfit"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "502": {
                "$ref": "#/components/responses/BadGateway"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              },
              "504": {
                "$ref": "#/components/responses/BotTimeout"
              }
            }
          }
        },
        "/bots/{botId}/trades": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "get": {
            "operationId": "getBotTrades",
            "summary": "The bot's trades (Freqtrade `/trades`), paged",
            "tags": [
              "trading"
            ],
            "description": "From the bot's own API, after the dry-run guard. 409 `bot_not_running` unless the bot is starting or running, 409 `quarantined` when the bot reported it was not in dry-run.",
            "parameters": [
              {
                "name": "limit",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 500,
                  "default": 50
                },
                "description": "Page size."
              },
              {
                "name": "offset",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "minimum": 0,
                  "maximum": 1000000,
                  "default": 0
                },
                "description": "Trades to skip."
              }
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BotTrades"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "502": {
                "$ref": "#/components/responses/BadGateway"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              },
              "504": {
                "$ref": "#/components/responses/BotTimeout"
              }
            }
          }
        },
        "/bots/{botId}/trading/start": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "post": {
            "operationId": "startBotTrading",
            "summary": "Start trading inside a running bot (owner, admin)",
            "tags": [
              "trading"
            ],
            "requestBody": {
              "required": false,
              "description": "Nothing to say: send `{}` (or no body) with `Content-Type: application/json` (the CSRF rule). Any field is refused with 400 `validation_failed`.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Empty"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Freqtrade's answer, e.g. `{\"status\":\"...\"}`.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BotPassThrough"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "502": {
                "$ref": "#/components/responses/BadGateway"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              },
              "504": {
                "$ref": "#/components/responses/BotTimeout"
              }
            }
          }
        },
        "/bots/{botId}/trading/stop": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            }
          ],
          "post": {
            "operationId": "stopBotTrading",
            "summary": "Stop trading inside a running bot (owner, admin)",
            "tags": [
              "trading"
            ],
            "requestBody": {
              "required": false,
              "description": "Nothing to say: send `{}` (or no body) with `Content-Type: application/json` (the CSRF rule). Any field is refused with 400 `validation_failed`.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Empty"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Freqtrade's answer, e.g. `{\"status\":\"...\"}`.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BotPassThrough"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "502": {
                "$ref": "#/components/responses/BadGateway"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              },
              "504": {
                "$ref": "#/components/responses/BotTimeout"
              }
            }
          }
        },
        "/bots/{botId}/trades/{tradeId}/exit": {
          "parameters": [
            {
              "$ref": "#/components/parameters/botId"
            },
            {
              "$ref": "#/components/parameters/tradeId"
            }
          ],
          "post": {
            "operationId": "exitBotTrade",
            "summary": "Close an open trade at market (owner, admin)",
            "tags": [
              "trading"
            ],
            "requestBody": {
              "required": false,
              "description": "Nothing to say: send `{}` (or no body) with `Content-Type: application/json` (the CSRF rule). Any field is refused with 400 `validation_failed`.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Empty"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Freqtrade's answer, e.g. `{\"result\":\"...\"}`.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BotPassThrough"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "500": {
                "$ref": "#/components/responses/Internal"
              },
              "502": {
                "$ref": "#/components/responses/BadGateway"
              },
              "503": {
                "$ref": "#/components/responses/DockerUnavailable"
              },
              "504": {
                "$ref": "#/components/responses/BotTimeout"
              }
            }
          }
        },
        "/audit": {
          "get": {
            "operationId": "listAudit",
            "summary": "The audit trail, newest first (admin)",
            "tags": [
              "system"
            ],
            "parameters": [
              {
                "name": "actor",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "string"
                },
                "description": "Only entries by this actor."
              },
              {
                "name": "action",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "string"
                },
                "description": "Only this action, e.g. `bot.create`."
              },
              {
                "name": "clientId",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "string"
                },
                "description": "Only entries about this client."
              },
              {
                "name": "outcome",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "string",
                  "enum": [
                    "success",
                    "failure",
                    "denied"
                  ]
                },
                "description": "Only this outcome."
              },
              {
                "name": "limit",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 500
                },
                "description": "At most this many entries."
              },
              {
                "name": "before",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "format": "int64",
                  "minimum": 1
                },
                "description": "Only entries older than this entry id (paging)."
              }
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "entries"
                      ],
                      "properties": {
                        "entries": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/AuditEntry"
                          }
                        }
                      },
                      "additionalProperties": false
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              }
            }
          }
        },
        "/system": {
          "get": {
            "operationId": "getSystem",
            "summary": "Installation checks, memory budget, engine and bot counts (admin)",
            "tags": [
              "system"
            ],
            "responses": {
              "200": {
                "description": "OK",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/SystemReport"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthenticated"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              }
            }
          }
        }
      },
      "components": {
        "securitySchemes": {
          "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "fta_session",
            "description": "Set by `POST /auth/login`. Named `__Host-fta_session` when the portal is served over TLS."
          }
        },
        "parameters": {
          "clientId": {
            "name": "clientId",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "pattern": "^[a-z0-9][a-z0-9-]{0,30}$"
            }
          },
          "botId": {
            "name": "botId",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "pattern": "^[a-z0-9][a-z0-9-]{0,30}$"
            }
          },
          "userId": {
            "name": "userId",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1
            }
          },
          "tradeId": {
            "name": "tradeId",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 9223372036854775807
            }
          }
        },
        "responses": {
          "BadRequest": {
            "description": "`validation_failed` (with `fields`) or `bad_request` (the body is not a JSON object).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "Unauthenticated": {
            "description": "`unauthenticated`: no live session.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "Forbidden": {
            "description": "`forbidden` (the role may not do this) or `cross_site` (a state-changing request from another site).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "NotFound": {
            "description": "`not_found`: no such object, or it belongs to another client.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "Conflict": {
            "description": "`conflict`, `quota_exceeded`, `memory_budget_exceeded`, `bot_not_running` or `quarantined`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "PayloadTooLarge": {
            "description": "`payload_too_large`: the body is over 64 KiB.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "UnsupportedMediaType": {
            "description": "`unsupported_media_type`: a POST, PATCH or DELETE without `Content-Type: application/json`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "TooManyAttempts": {
            "description": "`too_many_attempts`: too many failed sign-ins from this address or for this account.",
            "headers": {
              "Retry-After": {
                "description": "Seconds until the lockout ends.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "Internal": {
            "description": "`internal`: the container engine refused or failed; details are in the server log.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "BadGateway": {
            "description": "`bot_unreachable` or `bot_error`: the bot's own API did not answer or refused.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "DockerUnavailable": {
            "description": "`docker_unavailable`: the container engine (through the socket proxy) is not reachable, or the bot image is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "BotTimeout": {
            "description": "`bot_timeout`: the bot's API did not answer in time.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        },
        "schemas": {
          "Error": {
            "type": "object",
            "description": "Every error: a stable code, a sentence for the user and, on validation errors, one message per failing field. Never a stack trace, SQL, path, Docker or curl text.",
            "required": [
              "error"
            ],
            "additionalProperties": false,
            "properties": {
              "error": {
                "type": "object",
                "required": [
                  "code",
                  "message"
                ],
                "additionalProperties": false,
                "properties": {
                  "code": {
                    "type": "string",
                    "description": "unauthenticated, forbidden, not_found, invalid_credentials, too_many_attempts, validation_failed, bad_request, conflict, quota_exceeded, memory_budget_exceeded, bot_not_running, quarantined, payload_too_large, unsupported_media_type, cross_site, method_not_allowed, bot_unreachable, bot_error, bot_timeout, docker_unavailable, internal",
                    "examples": [
                      "validation_failed"
                    ]
                  },
                  "message": {
                    "type": "string"
                  },
                  "fields": {
                    "type": "object",
                    "description": "Field name (e.g. `pairs`, `name`) to what is wrong with it.",
                    "additionalProperties": {
                      "type": "string"
                    }
                  }
                }
              }
            }
          },
          "Empty": {
            "type": "object",
            "description": "An empty JSON object.",
            "additionalProperties": false,
            "maxProperties": 0
          },
          "Role": {
            "type": "string",
            "enum": [
              "admin",
              "owner",
              "viewer"
            ]
          },
          "User": {
            "type": "object",
            "required": [
              "id",
              "username",
              "role",
              "disabled",
              "createdAt"
            ],
            "additionalProperties": false,
            "properties": {
              "id": {
                "type": "integer",
                "format": "int64",
                "minimum": 1
              },
              "username": {
                "type": "string"
              },
              "role": {
                "$ref": "#/components/schemas/Role"
              },
              "clientId": {
                "type": [
                  "string",
                  "null"
                ],
                "pattern": "^[a-z0-9][a-z0-9-]{0,30}$",
                "description": "The user's client; absent for an admin."
              },
              "disabled": {
                "type": "boolean"
              },
              "createdAt": {
                "type": "string",
                "format": "date-time"
              }
            }
          },
          "Client": {
            "type": "object",
            "required": [
              "id",
              "name",
              "createdAt",
              "botCount",
              "maxBots",
              "userCount"
            ],
            "additionalProperties": false,
            "properties": {
              "id": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9-]{0,30}$"
              },
              "name": {
                "type": "string"
              },
              "createdAt": {
                "type": "string",
                "format": "date-time"
              },
              "botCount": {
                "type": "integer",
                "minimum": 0
              },
              "maxBots": {
                "type": "integer",
                "minimum": 1,
                "description": "The client's bot quota (its own or the server's default)."
              },
              "userCount": {
                "type": "integer",
                "minimum": 0
              }
            }
          },
          "BotState": {
            "type": "string",
            "enum": [
              "created",
              "starting",
              "running",
              "stopping",
              "stopped",
              "failed",
              "quarantined",
              "deleting"
            ]
          },
          "Bot": {
            "type": "object",
            "required": [
              "id",
              "clientId",
              "name",
              "exchange",
              "pairs",
              "stakeCurrency",
              "stakeAmount",
              "dryRunWallet",
              "maxOpenTrades",
              "timeframe",
              "strategy",
              "size",
              "memoryMB",
              "state",
              "desiredState",
              "createdAt",
              "updatedAt"
            ],
            "additionalProperties": false,
            "properties": {
              "id": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9-]{0,30}$"
              },
              "clientId": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9-]{0,30}$"
              },
              "name": {
                "type": "string"
              },
              "exchange": {
                "type": "string"
              },
              "pairs": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "stakeCurrency": {
                "type": "string"
              },
              "stakeAmount": {
                "type": "string",
                "description": "A decimal like \"100\", or \"unlimited\"."
              },
              "dryRunWallet": {
                "type": "number"
              },
              "maxOpenTrades": {
                "type": "integer"
              },
              "timeframe": {
                "type": "string"
              },
              "strategy": {
                "type": "string"
              },
              "size": {
                "type": "string",
                "enum": [
                  "small",
                  "medium",
                  "large"
                ]
              },
              "memoryMB": {
                "type": "integer",
                "description": "The container's memory limit, from the size."
              },
              "state": {
                "$ref": "#/components/schemas/BotState"
              },
              "desiredState": {
                "type": "string",
                "enum": [
                  "running",
                  "stopped"
                ]
              },
              "lastError": {
                "type": [
                  "string",
                  "null"
                ],
                "description": "Why the last operation failed; absent when none."
              },
              "createdAt": {
                "type": "string",
                "format": "date-time"
              },
              "updatedAt": {
                "type": "string",
                "format": "date-time"
              },
              "startedAt": {
                "type": [
                  "string",
                  "null"
                ],
                "format": "date-time",
                "description": "Absent unless running."
              }
            }
          },
          "Budget": {
            "type": "object",
            "description": "The host's memory budget for bots, in MiB: reserved by bots that should run, and free.",
            "required": [
              "memoryMB",
              "usedMB",
              "freeMB"
            ],
            "additionalProperties": false,
            "properties": {
              "memoryMB": {
                "type": "integer",
                "minimum": 0
              },
              "usedMB": {
                "type": "integer",
                "minimum": 0
              },
              "freeMB": {
                "type": "integer",
                "minimum": 0
              }
            }
          },
          "AuditEntry": {
            "type": "object",
            "required": [
              "id",
              "at",
              "actor",
              "action",
              "outcome"
            ],
            "additionalProperties": false,
            "properties": {
              "id": {
                "type": "integer",
                "format": "int64",
                "minimum": 1
              },
              "at": {
                "type": "string",
                "format": "date-time"
              },
              "actor": {
                "type": "string",
                "description": "A username, or a system actor such as `reconciler`."
              },
              "actorUserId": {
                "type": "integer",
                "format": "int64"
              },
              "clientId": {
                "type": "string"
              },
              "action": {
                "type": "string",
                "examples": [
                  "auth.login",
                  "bot.create"
                ]
              },
              "target": {
                "type": "string"
              },
              "sourceIp": {
                "type": "string"
              },
              "outcome": {
                "type": "string",
                "enum": [
                  "success",
                  "failure",
                  "denied"
                ]
              },
              "detail": {
                "type": "string"
              }
            }
          },
          "Health": {
            "type": "object",
            "required": [
              "status",
              "checks"
            ],
            "additionalProperties": false,
            "properties": {
              "status": {
                "type": "string",
                "enum": [
                  "ok",
                  "degraded"
                ]
              },
              "checks": {
                "type": "object",
                "required": [
                  "database",
                  "docker"
                ],
                "additionalProperties": false,
                "properties": {
                  "database": {
                    "type": "string",
                    "enum": [
                      "ok",
                      "fail"
                    ]
                  },
                  "docker": {
                    "type": "string",
                    "enum": [
                      "ok",
                      "fail"
                    ]
                  }
                }
              }
            }
          },
          "Me": {
            "type": "object",
            "required": [
              "user",
              "budget"
            ],
            "additionalProperties": false,
            "properties": {
              "user": {
                "$ref": "#/components/schemas/User"
              },
              "client": {
                "oneOf": [
                  {
                    "$ref": "#/components/schemas/Client"
                  },
                  {
                    "type": "null"
                  }
                ],
                "description": "The user's client; absent for an admin."
              },
              "budget": {
                "$ref": "#/components/schemas/Budget"
              }
            }
          },
          "Catalog": {
            "type": "object",
            "required": [
              "exchanges",
              "strategies",
              "timeframes",
              "sizes",
              "stakeCurrencies",
              "limits"
            ],
            "additionalProperties": false,
            "properties": {
              "exchanges": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "strategies": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [
                    "id",
                    "name",
                    "description"
                  ],
                  "additionalProperties": false,
                  "properties": {
                    "id": {
                      "type": "string"
                    },
                    "name": {
                      "type": "string"
                    },
                    "description": {
                      "type": "string"
                    }
                  }
                }
              },
              "timeframes": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "sizes": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [
                    "id",
                    "memoryMB",
                    "cpus"
                  ],
                  "additionalProperties": false,
                  "properties": {
                    "id": {
                      "type": "string",
                      "enum": [
                        "small",
                        "medium",
                        "large"
                      ]
                    },
                    "memoryMB": {
                      "type": "integer",
                      "minimum": 1
                    },
                    "cpus": {
                      "type": "number",
                      "exclusiveMinimum": 0
                    }
                  }
                }
              },
              "stakeCurrencies": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "limits": {
                "type": "object",
                "required": [
                  "maxPairs"
                ],
                "additionalProperties": false,
                "properties": {
                  "maxPairs": {
                    "type": "integer",
                    "minimum": 1
                  }
                }
              }
            }
          },
          "SystemReport": {
            "type": "object",
            "required": [
              "checks",
              "budget",
              "docker",
              "bots"
            ],
            "additionalProperties": false,
            "properties": {
              "checks": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [
                    "name",
                    "status",
                    "detail",
                    "fix"
                  ],
                  "additionalProperties": false,
                  "properties": {
                    "name": {
                      "type": "string"
                    },
                    "status": {
                      "type": "string",
                      "enum": [
                        "pass",
                        "warn",
                        "fail"
                      ]
                    },
                    "detail": {
                      "type": "string"
                    },
                    "fix": {
                      "type": "string",
                      "description": "What to do about it; empty on a pass."
                    }
                  }
                }
              },
              "budget": {
                "$ref": "#/components/schemas/Budget"
              },
              "docker": {
                "type": "object",
                "required": [
                  "reachable"
                ],
                "additionalProperties": false,
                "properties": {
                  "reachable": {
                    "type": "boolean"
                  }
                }
              },
              "bots": {
                "type": "object",
                "required": [
                  "total",
                  "running"
                ],
                "additionalProperties": false,
                "properties": {
                  "total": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "running": {
                    "type": "integer",
                    "minimum": 0
                  }
                }
              }
            }
          },
          "LoginRequest": {
            "type": "object",
            "required": [
              "username",
              "password"
            ],
            "additionalProperties": false,
            "properties": {
              "username": {
                "type": "string",
                "description": "Only the first 64 characters are read."
              },
              "password": {
                "type": "string",
                "format": "password",
                "description": "Only the first 256 characters are read."
              }
            }
          },
          "PasswordChangeRequest": {
            "type": "object",
            "required": [
              "currentPassword",
              "newPassword"
            ],
            "additionalProperties": false,
            "properties": {
              "currentPassword": {
                "type": "string",
                "format": "password"
              },
              "newPassword": {
                "$ref": "#/components/schemas/NewPassword"
              }
            }
          },
          "NewPassword": {
            "type": "string",
            "format": "password",
            "minLength": 12,
            "maxLength": 72,
            "description": "12 characters or more, at most 72 bytes in UTF-8, at least 4 different characters, and not containing the username."
          },
          "NewClientRequest": {
            "type": "object",
            "examples": [
              {
                "id": "northwind",
                "name": "Northwind Traders",
                "maxBots": 3
              }
            ],
            "required": [
              "id",
              "name"
            ],
            "additionalProperties": false,
            "properties": {
              "id": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9-]{0,30}$"
              },
              "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
                "description": "1 to 100 characters after trimming spaces, no control characters."
              },
              "maxBots": {
                "type": [
                  "integer",
                  "null"
                ],
                "minimum": 1,
                "maximum": 1000,
                "description": "The client's bot quota; omitted or null: the server's default (FTA_MAX_BOTS_PER_CLIENT)."
              }
            }
          },
          "NewUserRequest": {
            "type": "object",
            "examples": [
              {
                "username": "alice",
                "password": "correct horse battery",
                "role": "owner"
              }
            ],
            "required": [
              "username",
              "password",
              "role"
            ],
            "additionalProperties": false,
            "properties": {
              "username": {
                "type": "string",
                "pattern": "^[A-Za-z0-9._@-]{3,64}$"
              },
              "password": {
                "$ref": "#/components/schemas/NewPassword"
              },
              "role": {
                "type": "string",
                "enum": [
                  "owner",
                  "viewer"
                ]
              }
            }
          },
          "UserChangeRequest": {
            "type": "object",
            "required": [
              "disabled"
            ],
            "additionalProperties": false,
            "properties": {
              "disabled": {
                "type": "boolean",
                "description": "An admin cannot disable their own account (409)."
              }
            }
          },
          "PasswordResetRequest": {
            "type": "object",
            "required": [
              "password"
            ],
            "additionalProperties": false,
            "properties": {
              "password": {
                "$ref": "#/components/schemas/NewPassword"
              }
            }
          },
          "NewBotRequest": {
            "type": "object",
            "examples": [
              {
                "id": "ema-1",
                "clientId": "northwind",
                "name": "My EMA bot",
                "exchange": "binance",
                "pairs": [
                  "BTC/USDT",
                  "ETH/USDT"
                ],
                "stakeCurrency": "USDT",
                "stakeAmount": "100",
                "dryRunWallet": 1000,
                "maxOpenTrades": 3,
                "timeframe": "5m",
                "strategy": "FtaEmaCross",
                "size": "small",
                "start": true
              }
            ],
            "description": "A new bot. Besides each field's own rule: every pair must be quoted in the stake currency, a fixed stake must not exceed the dry-run wallet, and the strategy must be offered by this server (`FtaQuickTest` only when the operator allows test strategies).",
            "required": [
              "id",
              "name",
              "exchange",
              "pairs",
              "stakeCurrency",
              "stakeAmount",
              "dryRunWallet",
              "maxOpenTrades",
              "timeframe",
              "strategy",
              "size"
            ],
            "additionalProperties": false,
            "properties": {
              "id": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9-]{0,30}$"
              },
              "clientId": {
                "type": [
                  "string",
                  "null"
                ],
                "pattern": "^[a-z0-9][a-z0-9-]{0,30}$",
                "description": "Required for an admin (the client the bot belongs to, which must exist); a client user omits it or names their own client."
              },
              "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
                "description": "1 to 64 characters after trimming spaces, no control or format characters."
              },
              "exchange": {
                "type": "string",
                "enum": [
                  "binance",
                  "bitget",
                  "bybit",
                  "gate",
                  "htx",
                  "kraken",
                  "kucoin",
                  "okx"
                ]
              },
              "pairs": {
                "type": "array",
                "minItems": 1,
                "maxItems": 20,
                "uniqueItems": true,
                "items": {
                  "type": "string",
                  "pattern": "^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$"
                }
              },
              "stakeCurrency": {
                "type": "string",
                "enum": [
                  "USDT",
                  "USDC",
                  "BTC",
                  "ETH",
                  "EUR",
                  "USD"
                ]
              },
              "stakeAmount": {
                "type": "string",
                "maxLength": 16,
                "pattern": "^(unlimited|[0-9]*[1-9][0-9]*(\\.[0-9]*)?|[0-9]*\\.[0-9]*[1-9][0-9]*)$",
                "description": "A positive plain decimal (digits and one optional dot) or \"unlimited\"."
              },
              "dryRunWallet": {
                "type": "number",
                "minimum": 10,
                "maximum": 1000000
              },
              "maxOpenTrades": {
                "type": "integer",
                "minimum": 1,
                "maximum": 20
              },
              "timeframe": {
                "type": "string",
                "enum": [
                  "1m",
                  "5m",
                  "15m",
                  "30m",
                  "1h",
                  "4h",
                  "1d"
                ]
              },
              "strategy": {
                "type": "string",
                "enum": [
                  "FtaEmaCross",
                  "FtaRsi",
                  "FtaBollinger",
                  "FtaQuickTest"
                ]
              },
              "size": {
                "type": "string",
                "enum": [
                  "small",
                  "medium",
                  "large"
                ]
              },
              "start": {
                "type": [
                  "boolean",
                  "null"
                ],
                "default": true,
                "description": "Start the bot at once (default)."
              }
            }
          },
          "BotLogs": {
            "type": "object",
            "required": [
              "lines"
            ],
            "properties": {
              "lines": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            },
            "additionalProperties": false
          },
          "BotStatus": {
            "type": "object",
            "required": [
              "trades"
            ],
            "properties": {
              "trades": {
                "type": "array",
                "items": {
                  "type": "object"
                },
                "description": "Freqtrade's `/status`: the open trades."
              }
            },
            "additionalProperties": false
          },
          "BotProfit": {
            "type": "object",
            "description": "Freqtrade's `/profit`, passed through.",
            "properties": {
              "profit_all_coin": {
                "type": "number"
              },
              "profit_all_percent": {
                "type": "number"
              },
              "trade_count": {
                "type": "integer"
              },
              "closed_trade_count": {
                "type": "integer"
              }
            }
          },
          "BotTrades": {
            "type": "object",
            "required": [
              "trades",
              "total",
              "offset"
            ],
            "additionalProperties": false,
            "properties": {
              "trades": {
                "type": "array",
                "items": {
                  "type": "object"
                },
                "description": "Freqtrade's trades, passed through."
              },
              "total": {
                "type": "integer",
                "minimum": 0
              },
              "offset": {
                "type": "integer",
                "minimum": 0
              }
            }
          },
          "BotPassThrough": {
            "type": "object",
            "description": "The answer of the bot's own Freqtrade API, passed through."
          }
        }
      }
    }
    """#
}
