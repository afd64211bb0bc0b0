/**
 * Loads every handler file, each of which registers itself (registry.ts); importing this module
 * is what makes the broker serve an API. One import line per API key, in key order.
 */
import './00-produce.js'
import './01-fetch.js'
import './02-list-offsets.js'
import './03-metadata.js'
import './08-offset-commit.js'
import './09-offset-fetch.js'
import './10-find-coordinator.js'
import './11-join-group.js'
import './12-heartbeat.js'
import './13-leave-group.js'
import './14-sync-group.js'
import './15-describe-groups.js'
import './16-list-groups.js'
import './18-api-versions.js'
import './19-create-topics.js'
import './20-delete-topics.js'
import './32-describe-configs.js'
import './37-create-partitions.js'
import './42-delete-groups.js'

export { handlerFor, registeredHandlers, supports, type ApiHandler, type RequestContext }
  from './registry.js'
export { unsupportedVersionReply, apiVersionsResponse } from './18-api-versions.js'
