/*
 * auth.h: who may connect as admin or facilitator, and the admin commands.
 *
 * Token hashes and the team list are cached from PostgreSQL and refreshed
 * in the background, so a facilitator can still sign in and open a session
 * while the database is briefly away. Admin commands query the database
 * asynchronously and answer when it replies.
 */
#ifndef LWK_AUTH_H
#define LWK_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "lwkd.h"

void auth_init(struct lwkd *d);
void auth_free(struct lwkd *d);
/* Reloads the caches now (after the database (re)connects). */
void auth_refresh(struct lwkd *d);
/* The name of the holder of token, or NULL. admin_only: only admin tokens. */
const char *auth_check_token(struct lwkd *d, const char *token, bool admin_only);
/* The display name of team unit, or NULL when no such team is known. */
const char *auth_team_name(struct lwkd *d, int64_t unit);
/* True once the team list has been loaded from the database. */
bool auth_teams_known(struct lwkd *d);
/* Handles org.*, unit.*, facilitator.*, instrument.list for an allowed client. */
void auth_admin_request(struct conn *c, const struct proto_msg *m, int64_t id);
/* SHA-256 of s as 64 lower-case hex digits into out[65]. */
void auth_sha256_hex(const char *s, char out[65]);
/* Fills buf with n random characters from a URL-safe alphabet. */
int auth_random_token(char *buf, size_t n);

#endif
